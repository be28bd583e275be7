// read_event_file and event_files_in of io/event_file.h.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "omnirm/core/error.h"
#include "omnirm/io/event_file.h"

namespace omnirm::io {

EventFileContents read_event_file(const std::string& path, TailPolicy tail) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError("cannot read the event file " + path + "; check the path");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  const std::string content = bytes.str();
  TfRecordSplit split = tfrecord_split(content, path, tail);
  EventFileContents contents;
  contents.truncated_tail = std::move(split.truncated_tail);
  contents.events.reserve(split.records.size());
  for (size_t i = 0; i < split.records.size(); ++i) {
    const std::string where = path + ": record " + std::to_string(i + 1) + " at byte " +
                              std::to_string(split.records[i].offset);
    contents.events.push_back(decode_tb_event(split.records[i].payload, where));
  }
  return contents;
}

std::vector<std::string> event_files_in(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    if (entry.is_regular_file() &&
        entry.path().filename().string().find("tfevents") != std::string::npos) {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace omnirm::io
