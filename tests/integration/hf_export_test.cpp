// Export round trip through transformers: a tiny model trained by omnirm, exported with
// `omnirm export`, is loaded by AutoModelForSequenceClassification + AutoTokenizer
// (tools/check_hf_export.py) and gives the rewards of `omnirm score` within 1e-4 on fixed
// pairs, with a sentencepiece tokenizer and with a byte-level BPE tokenizer.json. Skips, saying
// why, where the venv Python or transformers is missing (tools/setup.sh installs both).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
using omnirm::testing::CommandResult;
using omnirm::testing::make_temp_dir;
using omnirm::testing::make_tiny_run_dir;
using omnirm::testing::omnirm_binary;
using omnirm::testing::read_file;
using omnirm::testing::run_command;
using omnirm::testing::TinyRun;
using omnirm::testing::write_file;

std::string venv_python() {
  if (const char* python = std::getenv("OMNIRM_PYTHON")) return python;
  if (const char* home = std::getenv("OMNIRM_HOME")) return std::string(home) + "/venv/bin/python";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "") + "/.local/share/omnirm/venv/bin/python";
}

// Fixed pairs: with and without criteria, several turns, punctuation, digits, non-ASCII text,
// leading and inner spaces, a newline inside a response, and a one-character response.
const char* kPairs[] = {
    R"({"id": "a", "criteria": "Prefer the helpful answer.", "prompt": [{"role": "user", "content": [{"type": "text", "text": "What is 12 + 30?"}]}], "chosen": {"content": [{"type": "text", "text": "12 + 30 = 42."}]}, "rejected": {"content": [{"type": "text", "text": "It is 24, I think"}]}})",
    R"({"id": "b", "criteria": "", "prompt": [{"role": "user", "content": [{"type": "text", "text": "Name a colour."}]}], "chosen": {"content": [{"type": "text", "text": "Blue"}]}, "rejected": {"content": [{"type": "text", "text": "x"}]}})",
    R"({"id": "c", "criteria": "Be concise; be correct.", "prompt": [{"role": "user", "content": [{"type": "text", "text": "Say hi"}]}, {"role": "assistant", "content": [{"type": "text", "text": "Hi!"}]}, {"role": "user", "content": [{"type": "text", "text": "Now in French, please."}]}], "chosen": {"content": [{"type": "text", "text": "Salut, ça va ?"}]}, "rejected": {"content": [{"type": "text", "text": "Hello  again\nand again"}]}})",
    R"({"id": "d", "criteria": "Prefer the answer that follows the instruction.", "prompt": [{"role": "user", "content": [{"type": "text", "text": "List two fruits."}]}], "chosen": {"content": [{"type": "text", "text": "apple, pear"}]}, "rejected": {"content": [{"type": "text", "text": " carrot"}]}})",
};

std::map<std::string, std::pair<double, double>> rewards_by_id(const std::string& jsonl,
                                                               std::map<std::string, bool>* split) {
  std::map<std::string, std::pair<double, double>> out;
  std::istringstream lines(jsonl);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != '{') continue;  // the checker's stderr summary line
    const nlohmann::json record = nlohmann::json::parse(line);
    const std::string id = record.at("id").get<std::string>();
    out[id] = {record.at("reward_chosen").get<double>(),
               record.at("reward_rejected").get<double>()};
    if (split != nullptr) (*split)[id] = record.at("split_ids_equal").get<bool>();
  }
  return out;
}

// The error line of a Python traceback: the last line naming an Error, else the last line.
std::string python_error(const std::string& output) {
  std::string last, error, line;
  std::istringstream lines(output);
  while (std::getline(lines, line)) {
    if (!line.empty()) last = line;
    if (line.find("Error") != std::string::npos) error = line;
  }
  return error.empty() ? last : error;
}

class HfExport : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    python_ = new std::string(venv_python());
    if (::access(python_->c_str(), X_OK) != 0) {
      *skip_ = "skipped: no Python at " + *python_ + " (tools/setup.sh makes that venv)";
      return;
    }
    const CommandResult probe = run_command(*python_ + " -c 'import torch, transformers'");
    if (probe.exit_code != 0) {
      *skip_ = "skipped: transformers cannot be imported by " + *python_ +
               " (tools/setup.sh --deps installs it): " + python_error(probe.output);
      return;
    }
    dir_ = new std::string(make_temp_dir("hf-export"));
    ASSERT_EQ(make_tiny_run_dir(*dir_, TinyRun{}), "");
    std::string pairs;
    for (const char* pair : kPairs) pairs += std::string(pair) + "\n";
    write_file(*dir_ + "/pairs.jsonl", pairs);
  }
  static void TearDownTestSuite() {
    if (dir_ != nullptr) fs::remove_all(*dir_);
    delete dir_;
    delete python_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!skip_->empty()) GTEST_SKIP() << *skip_;
  }

  // Trains with `tokenizer_override` (a --set argument, or ""), exports, scores the fixed
  // pairs with omnirm and with transformers, and compares. The centering term is on so that
  // the value head's bias trains (the Bradley-Terry loss alone leaves it at zero).
  static void expect_round_trip(const std::string& name, const std::string& tokenizer_override) {
    const std::string run = *dir_ + "/" + name;
    const CommandResult train = run_command(omnirm_binary() + " train -c " + *dir_ +
                                            "/tiny.yaml --set train.output_dir=" + run +
                                            "/run --set train.centering=0.5 " + tokenizer_override);
    ASSERT_EQ(train.exit_code, 0) << train.output;
    const CommandResult exported =
        run_command(omnirm_binary() + " export -m " + run + "/run -o " + run + "/export");
    ASSERT_EQ(exported.exit_code, 0) << exported.output;
    const nlohmann::json config = nlohmann::json::parse(read_file(run + "/export/config.json"));
    ASSERT_TRUE(config.contains("omnirm_score_bias"));
    EXPECT_NE(config.at("omnirm_score_bias").get<double>(), 0.0);  // trained: the bias matters

    const CommandResult score = run_command(omnirm_binary() + " score -m " + run + "/run -i " +
                                            *dir_ + "/pairs.jsonl -o " + run + "/omnirm.jsonl");
    ASSERT_EQ(score.exit_code, 0) << score.output;
    const CommandResult check =
        run_command(*python_ + " " + omnirm::testing::source_dir() + "/tools/check_hf_export.py " +
                    run + "/export " + *dir_ + "/pairs.jsonl > " + run + "/hf.jsonl");
    if (check.exit_code == 77) GTEST_SKIP() << check.output;
    ASSERT_EQ(check.exit_code, 0) << check.output;

    std::map<std::string, bool> split;
    const auto ours = rewards_by_id(read_file(run + "/omnirm.jsonl"), nullptr);
    const auto theirs = rewards_by_id(read_file(run + "/hf.jsonl"), &split);
    ASSERT_EQ(ours.size(), std::size(kPairs));
    ASSERT_EQ(theirs.size(), std::size(kPairs));
    double worst = 0.0, spread = 0.0;
    for (const auto& [id, reward] : ours) {
      ASSERT_TRUE(theirs.count(id)) << id;
      EXPECT_TRUE(split.at(id)) << name << " " << id
                                << ": transformers tokenized the whole conversation into other "
                                   "ids than omnirm's prompt + response runs";
      const auto& hf = theirs.at(id);
      worst =
          std::max({worst, std::abs(reward.first - hf.first), std::abs(reward.second - hf.second)});
      spread = std::max(spread, std::abs(reward.first - reward.second));
    }
    std::printf("[ parity   ] %-44s max |omnirm - HF| = %.3g\n",
                (name + " export, rewards").c_str(), worst);
    EXPECT_LT(worst, 1e-4) << "omnirm:\n"
                           << read_file(run + "/omnirm.jsonl") << "transformers:\n"
                           << read_file(run + "/hf.jsonl");
    EXPECT_GT(spread, 1e-4);  // the rewards are not all alike
  }

  static std::string* python_;
  static std::string* dir_;
  static std::string* skip_;
};
std::string* HfExport::python_ = nullptr;
std::string* HfExport::dir_ = nullptr;
std::string* HfExport::skip_ = new std::string();

TEST_F(HfExport, SentencepieceExportScoresLikeOmnirm) { expect_round_trip("sentencepiece", ""); }

TEST_F(HfExport, BpeTokenizerJsonExportScoresLikeOmnirm) {
  expect_round_trip("bpe", "--set data.tokenizer=" + omnirm::testing::source_dir() +
                               "/tests/fixtures/bpe/tokenizer.json");
}

}  // namespace
