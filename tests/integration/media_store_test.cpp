// data.media_store end to end: a run decodes every media kind (image, video, audio, mesh) into the
// store; a second run reads them back and trains to the very same losses without adding an
// entry; a run over a store whose values were altered trains differently, so the store — not
// the decoders — is what the second run read.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "support/omni_run.h"
#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
using omnirm::testing::CommandResult;
using omnirm::testing::omnirm_binary;
using omnirm::testing::read_file;
using omnirm::testing::run_command;

// The training losses of a run, in order, as written in metrics.jsonl.
std::vector<std::string> losses(const std::string& run_dir) {
  const std::string text = read_file(run_dir + "/metrics.jsonl");
  std::vector<std::string> found;
  const std::regex pattern("\"loss\":([-0-9.eE+]+)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), pattern);
       it != std::sregex_iterator(); ++it) {
    found.push_back((*it)[1].str());
  }
  return found;
}

size_t entries(const std::string& store) {
  size_t count = 0;
  for (const auto& entry : fs::directory_iterator(store))
    count += entry.path().extension() == ".bin";
  return count;
}

// Adds 1 to the last stored value of every entry (the header stays valid).
void alter_every_entry(const std::string& store) {
  for (const auto& entry : fs::directory_iterator(store)) {
    std::fstream file(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(-4, std::ios::end);
    float value = 0.0f;
    file.read(reinterpret_cast<char*>(&value), sizeof(value));
    value += 1.0f;
    file.seekp(-4, std::ios::end);
    file.write(reinterpret_cast<const char*>(&value), sizeof(value));
  }
}

TEST(MediaStoreRun, ASecondRunReadsTheStoreInsteadOfDecoding) {
  const std::string dir = omnirm::testing::make_temp_dir("media-store-run");
  omnirm::testing::OmniRun setup;
  setup.tasks = "ti2t,tv2t,ta2t,t23d";
  setup.seed = 5;
  setup.max_steps = 2;
  ASSERT_EQ(omnirm::testing::make_omni_run_dir(dir, setup), "");
  const std::string store = dir + "/store";
  const auto train = [&](const std::string& name) {
    return run_command(omnirm_binary() + " train -c " + dir + "/omni.yaml --set data.media_store=" +
                       store + " --set train.output_dir=" + dir + "/runs/" + name);
  };

  const CommandResult first = train("first");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const size_t stored = entries(store);
  EXPECT_GT(stored, 8u) << "every media file of the run should be stored";

  const CommandResult second = train("second");
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_EQ(entries(store), stored);
  ASSERT_FALSE(losses(dir + "/runs/first").empty());
  EXPECT_EQ(losses(dir + "/runs/second"), losses(dir + "/runs/first"));

  alter_every_entry(store);
  const CommandResult altered = train("altered");
  ASSERT_EQ(altered.exit_code, 0) << altered.output;
  EXPECT_NE(losses(dir + "/runs/altered"), losses(dir + "/runs/first"));
  fs::remove_all(dir);
}

}  // namespace
