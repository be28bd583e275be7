// TensorBoard event files: a writer that a killed process leaves readable (each event is
// flushed as it is written) and a reader that checks every CRC. File names follow
// TensorBoard's pattern, events.out.tfevents.<unix seconds>.<hostname>.<pid>; the first
// record is the file_version event "brain.Event:2".
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "omnirm/io/tb_event.h"
#include "omnirm/io/tfrecord.h"

namespace omnirm::io {

class EventFileWriter {
 public:
  // Creates `dir` if needed and a new event file in it (never reusing an existing name).
  // Throws UserError if it cannot be written.
  explicit EventFileWriter(const std::string& dir);

  // One event at `step` holding every value, written and flushed before returning.
  void write_scalars(int64_t step, const std::vector<ScalarValue>& values);

  // A SessionLog START at `step`: a resumed run's first step, so that readers drop the values
  // an earlier process wrote for steps >= `step` (written after the checkpoint it resumed).
  void write_session_start(int64_t step);

  const std::string& path() const { return path_; }

 private:
  void write(const TbEvent& event);

  std::string path_;
  std::ofstream out_;
};

struct EventFileContents {
  std::vector<TbEvent> events;  // in file order, the file_version event included
  std::string truncated_tail;   // set only under TailPolicy::keep_complete
};

// Reads and decodes a whole event file. Throws UserError naming the file, the record and its
// byte offset for a CRC mismatch, a malformed event, or (under TailPolicy::error) a
// truncated last record.
EventFileContents read_event_file(const std::string& path, TailPolicy tail = TailPolicy::error);

// The event files (names containing "tfevents") directly in `dir`, sorted by name, which
// for one host orders them by the time they were started.
std::vector<std::string> event_files_in(const std::string& dir);

}  // namespace omnirm::io
