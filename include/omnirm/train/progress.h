// Training output for people and programs: metrics as JSONL (one object per line, appended
// and flushed) and, beside it, the same scalars as a TensorBoard event file; and a live
// progress line on a terminal (periodic plain lines otherwise).
#pragma once

#include <chrono>
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "omnirm/io/event_file.h"

namespace omnirm::train {

class MetricsLog {
 public:
  // Appends to `path`, creating parent directories. With a non-empty `event_dir`, a new
  // TensorBoard event file is started there (io/event_file.h).
  explicit MetricsLog(const std::string& path, const std::string& event_dir = "");

  // One JSON line; and, if there is an event file, one event at the record's "step" holding
  // every other numeric field under its JSON key as tag. Both are flushed.
  void write(const nlohmann::json& record);

  // A resumed run writes again from `first_step`: the event file says so (a SessionLog START),
  // so that TensorBoard drops what the interrupted process wrote for those steps.
  void mark_resume(int64_t first_step);

 private:
  std::ofstream out_;
  std::optional<io::EventFileWriter> events_;
};

class ProgressLine {
 public:
  // `prefix` starts every line (e.g. "[rank 1] ").
  ProgressLine(int64_t total_steps, int64_t first_step, int64_t print_every,
               std::string prefix = "");
  // Shows "step s/T  loss  acc  tokens/s  ETA"; on a terminal the line is redrawn in place.
  void update(int64_t step, double loss, double accuracy, double tokens_per_second);
  // Ends the live line before other output is printed.
  void interrupt();

 private:
  int64_t total_steps_, first_step_, print_every_;
  std::string prefix_;
  bool terminal_;
  bool line_open_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace omnirm::train
