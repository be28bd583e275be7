// End to end with an HF tokenizer.json (the byte-level BPE parity fixture of
// tests/fixtures/bpe): a tiny model trains on synthetic t2t pairs, its checkpoints carry
// tokenizer.json, and eval / score / export load it from there; a tokenizer.json without a
// chat marker stops the run with one line naming it.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
using omnirm::testing::CommandResult;
using omnirm::testing::make_temp_dir;
using omnirm::testing::omnirm_binary;
using omnirm::testing::read_file;
using omnirm::testing::run_command;
using omnirm::testing::write_file;

std::string fixture_tokenizer() {
  return omnirm::testing::source_dir() + "/tests/fixtures/bpe/tokenizer.json";
}

// Synthetic t2t pairs in dir/data and dir/tiny.yaml: a one-layer, 32-wide model on the
// tokenizer at `tokenizer`, 4 steps of 8 pairs, a checkpoint at step 4.
std::string make_run(const std::string& dir, const std::string& tokenizer) {
  const std::string data = dir + "/data";
  const CommandResult synth = run_command(omnirm_binary() + " data synth --tasks t2t --out " +
                                          data + " --train-pairs 48 --eval-pairs 16 --seed 5");
  if (synth.exit_code != 0) return synth.output;
  write_file(dir + "/tiny.yaml",
             "model:\n  hidden_size: 32\n  num_layers: 1\n  num_heads: 2\n  num_kv_heads: 1\n"
             "  intermediate_size: 64\ndata:\n  train: " +
                 data + "/train.jsonl\n  eval: " + data + "/eval.jsonl\n  tokenizer: " + tokenizer +
                 "\n  max_length: 256\ntrain:\n  global_batch_pairs: 8\n  micro_batch_pairs: 4\n"
                 "  max_steps: 4\n  save_every: 4\n  lr: 0.003\n  threads: 1\n  log_every: 1\n");
  return "";
}

TEST(BpeTokenizerRun, TrainsEvaluatesScoresAndExports) {
  const std::string dir = make_temp_dir("bpe-run");
  ASSERT_EQ(make_run(dir, fixture_tokenizer()), "");
  const std::string out = dir + "/run";
  const CommandResult train = run_command(omnirm_binary() + " train -c " + dir +
                                          "/tiny.yaml --set train.output_dir=" + out);
  ASSERT_EQ(train.exit_code, 0) << train.output;
  EXPECT_NE(train.output.find("accuracy"), std::string::npos) << train.output;

  const std::string checkpoint = out + "/checkpoints/step-00000004";
  ASSERT_TRUE(fs::exists(checkpoint + "/tokenizer.json")) << train.output;
  EXPECT_FALSE(fs::exists(checkpoint + "/tokenizer.model"));
  EXPECT_EQ(read_file(checkpoint + "/tokenizer.json"), read_file(fixture_tokenizer()));

  const CommandResult eval =
      run_command(omnirm_binary() + " eval -m " + out + " --json " + dir + "/eval.json");
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  EXPECT_NE(read_file(dir + "/eval.json").find("\"accuracy\""), std::string::npos);

  const CommandResult score = run_command(omnirm_binary() + " score -m " + checkpoint + " -i " +
                                          dir + "/data/eval.jsonl -o " + dir + "/scores.jsonl");
  ASSERT_EQ(score.exit_code, 0) << score.output;
  const std::string scores = read_file(dir + "/scores.jsonl");
  EXPECT_EQ(std::count(scores.begin(), scores.end(), '\n'), 16);

  const CommandResult exported =
      run_command(omnirm_binary() + " export -m " + out + " -o " + dir + "/export");
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  EXPECT_EQ(read_file(dir + "/export/tokenizer.json"), read_file(fixture_tokenizer()));
  EXPECT_NE(read_file(dir + "/export/tokenizer_config.json").find("PreTrainedTokenizerFast"),
            std::string::npos);
  fs::remove_all(dir);
}

TEST(BpeTokenizerRun, MissingChatMarkerStopsTheRunWithOneLine) {
  const std::string dir = make_temp_dir("bpe-run-bad");
  std::string json = read_file(fixture_tokenizer());
  // Renaming the marker's added token leaves "<|im_start|>" as plain text.
  const std::string marker = "\"content\":\"<|im_start|>\"";
  const size_t at = json.find(marker);
  ASSERT_NE(at, std::string::npos);
  json.replace(at, marker.size(), "\"content\":\"<|im_begin|>\"");
  write_file(dir + "/tokenizer.json", json);
  ASSERT_EQ(make_run(dir, dir + "/tokenizer.json"), "");
  const CommandResult train = run_command(omnirm_binary() + " train -c " + dir +
                                          "/tiny.yaml --set train.output_dir=" + dir + "/run");
  EXPECT_EQ(train.exit_code, 2) << train.output;
  EXPECT_NE(train.output.find("'<|im_start|>'"), std::string::npos) << train.output;
  EXPECT_EQ(std::count(train.output.begin(), train.output.end(), '\n'), 1) << train.output;
  fs::remove_all(dir);
}

}  // namespace
