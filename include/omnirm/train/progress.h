// Training output for people and programs: metrics as JSONL (one object per line, appended
// and flushed), and a live progress line on a terminal (periodic plain lines otherwise).
#pragma once

#include <chrono>
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace omnirm::train {

class MetricsLog {
 public:
  explicit MetricsLog(const std::string& path);  // appends; creates parent directories
  void write(const nlohmann::json& record);

 private:
  std::ofstream out_;
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
