// Smoke runs of the libFuzzer targets in tests/fuzz from the normal test suite: makes sure one
// target of that standalone project is built with clang++ in the test binary's build tree (the
// main build has normally built it there already: tests/CMakeLists.txt; otherwise it is built
// here, and later runs rebuild only what changed) and fuzzes a fixed number of inputs grown
// from a seed corpus. Skips the calling test, with a message, only where no clang++ that supports
// -fsanitize=fuzzer is installed.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/test_support.h"

namespace omnirm::testing {

inline std::string shell_quoted(const std::string& text) { return "'" + text + "'"; }

inline std::string find_fuzzing_clang() {
  for (const char* name : {"clang++-14", "clang++"}) {
    const CommandResult found = run_command(std::string("command -v ") + name);
    if (found.exit_code == 0 && !found.output.empty()) {
      return found.output.substr(0, found.output.find('\n'));
    }
  }
  return "";
}

// Builds `target` in <test binary dir>/<build_name> and runs it for `runs` inputs on
// tests/fuzz/<corpus>. Call it directly from the TEST body (it may GTEST_SKIP).
inline void run_fuzz_smoke(const std::string& target, const std::string& build_name,
                           const std::string& corpus, int runs) {
  namespace fs = std::filesystem;
  const std::string clang = find_fuzzing_clang();
  if (clang.empty()) {
    GTEST_SKIP() << "no clang++ found; install clang-14 and libclang-rt-14-dev (tools/setup.sh "
                    "does) to run "
                 << target;
  }
  const std::string source = source_dir() + "/tests/fuzz";
  const std::string build =
      (fs::read_symlink("/proc/self/exe").parent_path() / build_name).string();
  if (!fs::exists(build + "/CMakeCache.txt")) {
    const CommandResult configure = run_command(
        "cmake -S " + shell_quoted(source) + " -B " + shell_quoted(build) +
        " -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=" + shell_quoted(clang) + " 2>&1");
    ASSERT_EQ(configure.exit_code, 0) << configure.output;
  }
  if (fs::exists(build + "/NO_LIBFUZZER")) {
    GTEST_SKIP() << clang << " cannot build libFuzzer targets; install libclang-rt-14-dev";
  }
  const CommandResult compile =
      run_command("cmake --build " + shell_quoted(build) + " --target " + target + " -j1 2>&1");
  ASSERT_EQ(compile.exit_code, 0) << compile.output;

  const std::string grown = make_temp_dir("fuzz-corpus-" + target);
  const std::string count = std::to_string(runs);
  const CommandResult run = run_command(
      shell_quoted(build + "/" + target) + " " + shell_quoted(grown) + " " +
      shell_quoted(source + "/" + corpus) + " -runs=" + count + " -seed=1 -max_len=4096 2>&1");
  EXPECT_EQ(run.exit_code, 0) << run.output.substr(
      run.output.size() > 6000 ? run.output.size() - 6000 : 0);
  EXPECT_NE(run.output.find("Done " + count + " runs"), std::string::npos) << run.output;
  fs::remove_all(grown);
}

}  // namespace omnirm::testing
