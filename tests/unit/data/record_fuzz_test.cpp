// Runs the libFuzzer target of the record readers (tests/fuzz) in smoke mode: builds the
// small standalone project with clang++ into the build tree (once; later runs rebuild only
// what changed) and fuzzes 20,000 inputs grown from the seed corpus. Skipped, with a
// message, only where no clang++ that supports -fsanitize=fuzzer is installed.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/test_support.h"

namespace omnirm::data {
namespace {

namespace fs = std::filesystem;

std::string quoted(const std::string& text) { return "'" + text + "'"; }

std::string find_clang() {
  for (const char* name : {"clang++-14", "clang++"}) {
    const omnirm::testing::CommandResult found =
        omnirm::testing::run_command(std::string("command -v ") + name);
    if (found.exit_code == 0 && !found.output.empty()) {
      return found.output.substr(0, found.output.find('\n'));
    }
  }
  return "";
}

TEST(RecordParserFuzz, SmokeRunFindsNoCrash) {
  const std::string clang = find_clang();
  if (clang.empty()) {
    GTEST_SKIP() << "no clang++ found; install clang-14 and libclang-rt-14-dev (tools/setup.sh "
                    "does) to fuzz the record readers";
  }
  const std::string source = omnirm::testing::source_dir() + "/tests/fuzz";
  const std::string build =
      (fs::read_symlink("/proc/self/exe").parent_path() / "fuzz-record-parser").string();
  if (!fs::exists(build + "/CMakeCache.txt")) {
    const omnirm::testing::CommandResult configure = omnirm::testing::run_command(
        "cmake -S " + quoted(source) + " -B " + quoted(build) +
        " -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=" + quoted(clang) + " 2>&1");
    ASSERT_EQ(configure.exit_code, 0) << configure.output;
  }
  if (fs::exists(build + "/NO_LIBFUZZER")) {
    GTEST_SKIP() << clang << " cannot build libFuzzer targets; install libclang-rt-14-dev";
  }
  const omnirm::testing::CommandResult compile =
      omnirm::testing::run_command("cmake --build " + quoted(build) + " -j1 2>&1");
  ASSERT_EQ(compile.exit_code, 0) << compile.output;

  const std::string grown = omnirm::testing::make_temp_dir("fuzz-corpus");
  const omnirm::testing::CommandResult run = omnirm::testing::run_command(
      quoted(build + "/record_parser_fuzz") + " " + quoted(grown) + " " +
      quoted(source + "/corpus") + " -runs=20000 -seed=1 -max_len=4096 2>&1");
  EXPECT_EQ(run.exit_code, 0) << run.output.substr(
      run.output.size() > 6000 ? run.output.size() - 6000 : 0);
  EXPECT_NE(run.output.find("Done 20000 runs"), std::string::npos) << run.output;
  fs::remove_all(grown);
}

}  // namespace
}  // namespace omnirm::data
