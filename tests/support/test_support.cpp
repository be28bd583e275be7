// Implementation of tests/support/test_support.h.
#include "support/test_support.h"

#include <sys/wait.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>

#include "omnirm/core/error.h"

#ifndef OMNIRM_BINARY
#define OMNIRM_BINARY "omnirm"
#endif
#ifndef OMNIRM_SOURCE_DIR
#define OMNIRM_SOURCE_DIR "."
#endif

namespace omnirm::testing {

namespace fs = std::filesystem;

std::string make_temp_dir(const std::string& label) {
  static std::atomic<int> counter{0};
  fs::path dir =
      fs::temp_directory_path() /
      ("omnirm-test-" + label + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

void write_file(const std::string& path, const std::string& content) {
  fs::path p(path);
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error("cannot write " + path);
  out << content;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

CommandResult run_command(const std::string& command_line) {
  CommandResult result;
  std::string wrapped = command_line + " 2>&1";
  FILE* pipe = ::popen(wrapped.c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed for: " + command_line);
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.output.append(buffer.data(), n);
  }
  int status = ::pclose(pipe);
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  return result;
}

std::string omnirm_binary() { return OMNIRM_BINARY; }
std::string source_dir() { return OMNIRM_SOURCE_DIR; }

std::string make_tiny_run_dir(const std::string& dir, const TinyRun& run) {
  const std::string data = dir + "/data";
  const CommandResult synth =
      run_command(omnirm_binary() + " data synth --out " + data + " --train-pairs " +
                  std::to_string(run.train_pairs) + " --eval-pairs " +
                  std::to_string(run.eval_pairs) + " --seed " + std::to_string(run.seed));
  if (synth.exit_code != 0) return synth.output;
  const CommandResult tok = run_command(omnirm_binary() + " tokenizer train --corpus " + data +
                                        "/corpus.txt --out " + data + "/tok --vocab-size 400");
  if (tok.exit_code != 0) return tok.output;
  write_file(dir + "/tiny.yaml",
             "model:\n  hidden_size: 32\n  num_layers: 1\n  num_heads: 2\n  num_kv_heads: 1\n"
             "  intermediate_size: 64\n" +
                 run.extra_model_yaml + "data:\n  train: " + data +
                 "/train.jsonl\n  eval: " + data + "/eval.jsonl\n  tokenizer: " + data +
                 "/tok.model\n  max_length: 256\ntrain:\n  global_batch_pairs: 8\n"
                 "  micro_batch_pairs: " +
                 std::to_string(run.micro_batch_pairs) +
                 "\n  max_steps: 8\n  save_every: 4\n  keep_last: 5\n  lr: 0.003\n"
                 "  threads: 1\n  log_every: 1\n");
  return "";
}

std::string user_error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const UserError& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected a UserError";
  return "";
}

}  // namespace omnirm::testing
