// AtomicDirectory: a directory named relative to the working directory (no parent in its
// path) commits in place, and a committed directory replaces an older one whole.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "omnirm/io/atomic_dir.h"
#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;

TEST(AtomicDirectory, CommitsARelativeDirectoryAndReplacesTheOldOne) {
  const std::string root = omnirm::testing::make_temp_dir("atomic_dir");
  const fs::path previous = fs::current_path();
  fs::current_path(root);
  for (const char* content : {"first", "second"}) {
    omnirm::io::AtomicDirectory dir("out");
    std::ofstream(dir.file(content)) << content;
    dir.commit();
  }
  fs::current_path(previous);
  EXPECT_TRUE(fs::exists(fs::path(root) / "out" / "second"));
  EXPECT_FALSE(fs::exists(fs::path(root) / "out" / "first"));
  int entries = 0;
  for (const auto& entry : fs::directory_iterator(root)) {
    EXPECT_FALSE(omnirm::io::is_temporary_name(entry.path().filename().string()));
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

}  // namespace
