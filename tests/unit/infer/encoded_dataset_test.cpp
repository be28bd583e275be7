// An encoded pair set read for scoring keeps every record it can score — ties and
// preferences between identical responses included — and lists, with its reason, each item
// it cannot: media that will not decode, a record the length policy drops; both denominators
// follow. Read for training, the same file follows the training rules and data.on_bad_record.
#include "omnirm/infer/encoded_dataset.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "omnirm/core/error.h"
#include "omnirm/media/media_write.h"
#include "omnirm/text/tokenizer.h"
#include "support/test_support.h"

namespace omnirm::infer {
namespace {

using omnirm::testing::make_temp_dir;
using omnirm::testing::write_file;

std::string record(const std::string& id, const std::string& prompt, const std::string& chosen,
                   const std::string& rejected, const std::string& preference = "chosen") {
  return R"({"id": ")" + id + R"(", "task": ")" +
         (prompt.starts_with("[") ? std::string("ti2t") : std::string("t2t")) + R"(", "prompt": )" +
         prompt + R"(, "chosen": ")" + chosen + R"(", "rejected": ")" + rejected +
         R"(", "preference": ")" + preference + "\"}\n";
}

std::string image_prompt(const std::string& path) {
  return R"([{"role": "user", "content": [{"type": "image", "path": ")" + path +
         R"("}, {"type": "text", "text": "what is this?"}]}])";
}

class EncodedDatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("encoded-dataset");
    std::string corpus;
    for (int i = 0; i < 200; ++i) {
      corpus += "the answer is a red cube and a blue ball number " + std::to_string(i) + ".\n";
    }
    write_file(dir_ + "/corpus.txt", corpus);
    text::TokenizerTrainOptions options;
    options.corpus_path = dir_ + "/corpus.txt";
    options.model_prefix = dir_ + "/tok";
    options.vocab_size = 400;
    text::train_tokenizer(options);
    tokenizer_ = std::make_unique<text::Tokenizer>(text::Tokenizer::load(dir_ + "/tok.model"));

    media::Image image;
    image.width = image.height = 16;
    image.pixels.assign(16 * 16 * 3, 200);
    std::filesystem::create_directories(dir_ + "/img");
    media::write_png(dir_ + "/img/ok.png", image);

    std::string long_answer;
    for (int i = 0; i < 80; ++i) long_answer += "the answer is a red cube ";
    write_file(dir_ + "/pairs.jsonl",
               record("plain", "\"a red cube?\"", "a red cube", "a blue ball") +
                   record("same-tie", "\"a ball?\"", "a blue ball", "a blue ball", "tie") +
                   record("same-preference", "\"a ball?\"", "a blue ball", "a blue ball") +
                   record("seen", image_prompt("img/ok.png"), "a cube", "a ball") +
                   record("unseen", image_prompt("img/missing.png"), "a cube", "a ball") +
                   record("long", "\"a cube?\"", long_answer, "a ball"));

    config_.model.vision_layers = 1;
    config_.model.vision_hidden = 16;
    config_.model.vision_heads = 2;
    config_.model.vision_intermediate = 32;
    config_.model.image_size = 16;
    config_.model.patch_size = 8;
    config_.model.image_tokens = 2;
    config_.data.max_length = 64;
    config_.data.truncation = "drop";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  std::unique_ptr<text::Tokenizer> tokenizer_;
  Config config_;
};

TEST_F(EncodedDatasetTest, ScoringKeepsWhatItCanScoreAndListsTheRest) {
  const EncodedDataset set = load_encoded_dataset(dir_ + "/pairs.jsonl", *tokenizer_, config_,
                                                  /*keep_ties=*/true, DatasetUse::scoring);
  std::vector<std::string> ids;
  for (const EncodedPair& pair : set.pairs) ids.push_back(pair.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"plain", "same-tie", "same-preference", "seen"}));
  EXPECT_EQ(set.pairs[3].media_items.size(), 1u);
  ASSERT_EQ(set.unscored.size(), 2u);
  EXPECT_EQ(set.unscored[0].id, "unseen");
  EXPECT_EQ(set.unscored[0].task, "ti2t");
  EXPECT_EQ(set.unscored[0].origin, dir_ + "/pairs.jsonl:5");
  EXPECT_NE(set.unscored[0].reason.find("missing.png"), std::string::npos)
      << set.unscored[0].reason;
  EXPECT_EQ(set.unscored[1].id, "long");
  EXPECT_NE(set.unscored[1].reason.find("longer than data.max_length (64 tokens)"),
            std::string::npos)
      << set.unscored[1].reason;
  EXPECT_EQ(set.undecodable, 1);
  EXPECT_EQ(set.too_long, 1);
  EXPECT_EQ(set.items(), 6);
  EXPECT_EQ(set.summary_line().rfind("4 of 6 items scored", 0), 0u) << set.summary_line();
}

TEST_F(EncodedDatasetTest, TrainingFollowsTheTrainingRulesAndThePolicy) {
  EXPECT_NE(omnirm::testing::user_error_of([&] {
              load_encoded_dataset(dir_ + "/pairs.jsonl", *tokenizer_, config_,
                                   /*keep_ties=*/false);
            }).find("pairs.jsonl:3: rejected: identical to chosen"),
            std::string::npos);
  config_.data.on_bad_record = "skip";
  const EncodedDataset set =
      load_encoded_dataset(dir_ + "/pairs.jsonl", *tokenizer_, config_, /*keep_ties=*/false);
  std::vector<std::string> ids;
  for (const EncodedPair& pair : set.pairs) ids.push_back(pair.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"plain", "seen"}));
  EXPECT_EQ(set.read.skipped, 2);  // the identical preference and the missing image
  EXPECT_EQ(set.encode.dropped, 1);
  EXPECT_TRUE(set.unscored.empty());
}

}  // namespace
}  // namespace omnirm::infer
