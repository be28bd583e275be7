// The MiniCPM-o path end to end against the reference pipeline (tests/fixtures/minicpmo/, from
// tools/make_minicpmo_fixtures.py): omnirm reads the fixture's pair records, decodes their
// PNG and FLAC files itself, slices and renders them with the minicpm_o template and
// MiniCPM-o's layout, tokenizes with the fixture's tokenizer.json, packs the pairs in the
// pair-prefix layout (the prompt and its media encoded once for both responses) and in the
// two-sequence layout, and scores them with the fixture's MiniCPM-o checkpoint: every reward
// equals the reward the reference computed for that sequence within 1e-4 (fp32).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "omnirm/io/hf_checkpoint.h"
#include "omnirm/io/hf_config.h"
#include "omnirm/model/hf_weights.h"
#include "omnirm/model/reward_model.h"
#include "omnirm/text/tokenizer.h"
#include "omnirm/train/batching.h"
#include "omnirm/train/dataset.h"
#include "omnirm/train/media_hook.h"

namespace {

std::string fixture(const std::string& name) {
  return std::string(OMNIRM_SOURCE_DIR) + "/tests/fixtures/minicpmo/" + name;
}

TEST(MinicpmoPath, RewardsOfEveryPairMatchTheReferenceInBothLayouts) {
  if (!omnirm::train::media_decoding_available()) {
    GTEST_SKIP() << "this build has no media decoding (GPU build profile)";
  }
  omnirm::Config config;
  config.model = omnirm::io::load_hf_model_config(fixture("config.json"));
  config.data.tokenizer = fixture("tokenizer.json");
  config.data.max_length = 4096;
  config.data.media_cache_mb = 64;
  const omnirm::text::Tokenizer tokenizer = omnirm::text::Tokenizer::load(config.data.tokenizer);
  const omnirm::train::EncodedDataset dataset =
      omnirm::train::load_encoded_dataset(fixture("pairs.jsonl"), tokenizer, config, false);
  ASSERT_EQ(dataset.size(), 14) << dataset.summary_line();

  omnirm::model::RewardModel model(config.model, config.model.vocab_size);
  model->eval();
  const auto report =
      omnirm::model::load_hf_weights(*model, omnirm::io::load_hf_checkpoint(fixture("")));
  ASSERT_TRUE(report.missing.empty() && report.unexpected.empty()) << report.summary();

  std::ifstream in(fixture("reference.json"));
  const nlohmann::json cases = nlohmann::json::parse(in)["cases"];
  at::NoGradGuard no_grad;
  for (const bool sharing : {true, false}) {
    double worst = 0.0;
    // Two pairs per batch, so that media of several pairs are packed together.
    for (int64_t first = 0; first < dataset.size(); first += 2) {
      std::vector<int64_t> indices = {first};
      if (first + 1 < dataset.size()) indices.push_back(first + 1);
      const omnirm::train::PackedBatch batch =
          omnirm::train::batch_of(dataset, indices, sharing, 1.0);
      const omnirm::model::RewardOutput out =
          model->forward(omnirm::train::make_model_inputs(batch, at::kCPU));
      for (size_t i = 0; i < indices.size(); ++i) {
        const omnirm::data::EncodedPair& pair = dataset.pairs[static_cast<size_t>(indices[i])];
        SCOPED_TRACE(pair.id + (sharing ? " (pair-prefix)" : " (two sequences)"));
        const double chosen = cases[pair.id]["chosen"]["reward"].get<double>();
        const double rejected = cases[pair.id]["rejected"]["reward"].get<double>();
        const double got_chosen = out.chosen[static_cast<int64_t>(i)].item<double>();
        const double got_rejected = out.rejected[static_cast<int64_t>(i)].item<double>();
        EXPECT_NEAR(got_chosen, chosen, 1e-4);
        EXPECT_NEAR(got_rejected, rejected, 1e-4);
        worst = std::max({worst, std::abs(got_chosen - chosen), std::abs(got_rejected - rejected)});
      }
    }
    std::printf("[minicpmo] end-to-end rewards max |diff| %.3g (%s)\n", worst,
                sharing ? "pair-prefix layout" : "two-sequence layout");
  }
}

TEST(MinicpmoPath, TokenIdsOfEveryPairAreTheReferences) {
  if (!omnirm::train::media_decoding_available()) {
    GTEST_SKIP() << "this build has no media decoding (GPU build profile)";
  }
  omnirm::Config config;
  config.model = omnirm::io::load_hf_model_config(fixture("config.json"));
  config.data.tokenizer = fixture("tokenizer.json");
  config.data.max_length = 4096;
  const omnirm::text::Tokenizer tokenizer = omnirm::text::Tokenizer::load(config.data.tokenizer);
  const omnirm::train::EncodedDataset dataset =
      omnirm::train::load_encoded_dataset(fixture("pairs.jsonl"), tokenizer, config, false);
  std::ifstream in(fixture("reference.json"));
  const nlohmann::json cases = nlohmann::json::parse(in)["cases"];
  for (const omnirm::data::EncodedPair& pair : dataset.pairs) {
    SCOPED_TRACE(pair.id);
    for (const char* side : {"chosen", "rejected"}) {
      std::vector<int32_t> ids = pair.tokens.prompt;
      const auto& response =
          std::string(side) == "chosen" ? pair.tokens.chosen : pair.tokens.rejected;
      ids.insert(ids.end(), response.begin(), response.end());
      EXPECT_EQ(ids, cases[pair.id][side]["input_ids"].get<std::vector<int32_t>>()) << side;
    }
  }
}

TEST(MinicpmoPath, AnImageWhoseSlicesExceedMaxLengthFollowsTruncationAndIsCounted) {
  if (!omnirm::train::media_decoding_available()) {
    GTEST_SKIP() << "this build has no media decoding (GPU build profile)";
  }
  omnirm::Config config;
  config.model = omnirm::io::load_hf_model_config(fixture("config.json"));
  config.data.tokenizer = fixture("tokenizer.json");
  config.data.max_length = 300;  // the nine-slice image alone takes 10 x 66 tokens
  const omnirm::text::Tokenizer tokenizer = omnirm::text::Tokenizer::load(config.data.tokenizer);
  for (const char* policy : {"truncate", "drop"}) {
    config.data.truncation = policy;
    const omnirm::train::EncodedDataset dataset =
        omnirm::train::load_encoded_dataset(fixture("pairs.jsonl"), tokenizer, config, false);
    SCOPED_TRACE(policy);
    EXPECT_GT(dataset.encode.dropped, 0);
    EXPECT_EQ(dataset.size() + dataset.encode.dropped, 14);
    for (const omnirm::data::EncodedPair& pair : dataset.pairs) {
      EXPECT_NE(pair.id, "image_nine_slices");
      EXPECT_LE(int64_t(pair.tokens.prompt.size() +
                        std::max(pair.tokens.chosen.size(), pair.tokens.rejected.size())),
                300);
    }
  }
}

}  // namespace
