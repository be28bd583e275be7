// Helpers shared by the test executables: scratch directories and running the binary.
#pragma once

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

// Path of the built omnirm binary and of the source tree.
std::string omnirm_binary();
std::string source_dir();

}  // namespace omnirm::testing
