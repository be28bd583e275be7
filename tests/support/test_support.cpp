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

}  // namespace omnirm::testing
