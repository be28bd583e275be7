// Helpers shared by the test executables: scratch directories and running the binary.
#pragma once

#include <functional>
#include <string>

namespace omnirm::testing {

// A fresh, empty directory under the system temp dir, unique per call.
std::string make_temp_dir(const std::string& label);

// Writes `content` to `path` (parents created).
void write_file(const std::string& path, const std::string& content);

std::string read_file(const std::string& path);

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;      // the signal that ended it, if any
  std::string output;  // stdout and stderr together
};

// Runs a shell command line, capturing its combined output.
CommandResult run_command(const std::string& command_line);

// A tiny training setup in `dir`, made with the omnirm binary: synthetic t2t pairs in
// dir/data/{train,eval}.jsonl, a 400-piece tokenizer dir/data/tok.model, and dir/tiny.yaml: a
// one-layer, 32-wide model (plus the `extra_model_yaml` lines, e.g. "  qkv_bias: false\n"),
// 8 pairs a step in micro-batches of `micro_batch_pairs`, 8 steps, checkpoints every 4.
// Returns "" on success, else the failing command's output.
struct TinyRun {
  int train_pairs = 96;
  int eval_pairs = 32;
  int seed = 3;
  int micro_batch_pairs = 4;
  std::string extra_model_yaml;
};
std::string make_tiny_run_dir(const std::string& dir, const TinyRun& run);

// The message of the omnirm::UserError that `action` throws; a test failure when it throws
// none.
std::string user_error_of(const std::function<void()>& action);

// Path of the built omnirm binary and of the source tree.
std::string omnirm_binary();
std::string source_dir();

}  // namespace omnirm::testing
