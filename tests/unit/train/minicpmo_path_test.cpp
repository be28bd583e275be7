// The MiniCPM-o path end to end against the reference pipeline (tests/fixtures/minicpmo/, from
// tools/make_minicpmo_fixtures.py): omnirm reads the fixture's pair records, decodes their
// PNG, MP4 / MKV and FLAC files itself, slices and renders them with the minicpm_o template and
// MiniCPM-o's layout, tokenizes with the fixture's tokenizer.json, packs the pairs in the
// pair-prefix layout (the prompt and its media encoded once for both responses) and in the
// two-sequence layout, and scores them with the fixture's MiniCPM-o checkpoint: every reward
// equals the reward the reference computed for that sequence within 1e-4 (fp32), the 4:2:0
// video's included (its frames converted to RGB as PyAV converts them:
// tests/unit/media/minicpmo_video_test.cpp).
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
#include "support/host_reads.h"
#include "support/test_support.h"

namespace {

std::string fixture(const std::string& name) {
  return std::string(OMNIRM_SOURCE_DIR) + "/tests/fixtures/minicpmo/" + name;
}

// The fixture's model and data settings: its config.json, tokenizer, and the frame cap the
// reference ran with (56², the tiny slice resolution's square).
omnirm::Config fixture_config() {
  omnirm::Config config;
  config.model = omnirm::io::load_hf_model_config(fixture("config.json"));
  config.data.tokenizer = fixture("tokenizer.json");
  config.data.max_length = 4096;
  config.data.media_cache_mb = 64;
  config.data.video_max_pixels = 56 * 56;
  return config;
}

constexpr int64_t kPairs = 17;

TEST(MinicpmoPath, RewardsOfEveryPairMatchTheReferenceInBothLayouts) {
  if (!omnirm::train::media_decoding_available()) {
    GTEST_SKIP() << "this build has no media decoding (GPU build profile)";
  }
  const omnirm::Config config = fixture_config();
  const omnirm::text::Tokenizer tokenizer = omnirm::text::Tokenizer::load(config.data.tokenizer);
  const omnirm::train::EncodedDataset dataset =
      omnirm::train::load_encoded_dataset(fixture("pairs.jsonl"), tokenizer, config, false);
  ASSERT_EQ(dataset.size(), kPairs) << dataset.summary_line();

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
      const omnirm::model::ModelInputs inputs = omnirm::train::make_model_inputs(batch, at::kCPU);
      const omnirm::testing::HostReadCounter host_reads;
      const omnirm::model::RewardOutput out = model->forward(inputs);
      // Slices, grids, chunks and slots are laid out without reading a tensor back.
      EXPECT_EQ(host_reads.count(), 0);
      for (size_t i = 0; i < indices.size(); ++i) {
        const omnirm::data::EncodedPair& pair = dataset.pairs[static_cast<size_t>(indices[i])];
        SCOPED_TRACE(pair.id + (sharing ? " (pair-prefix)" : " (two sequences)"));
        const double chosen = cases[pair.id]["chosen"]["reward"].get<double>();
        const double rejected = cases[pair.id]["rejected"]["reward"].get<double>();
        const double got_chosen = out.chosen[static_cast<int64_t>(i)].item<double>();
        const double got_rejected = out.rejected[static_cast<int64_t>(i)].item<double>();
        const double diff =
            std::max(std::abs(got_chosen - chosen), std::abs(got_rejected - rejected));
        EXPECT_LT(diff, 1e-4) << pair.id;
        worst = std::max(worst, diff);
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
  const omnirm::Config config = fixture_config();
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
  omnirm::Config config = fixture_config();
  config.data.max_length = 300;  // the nine-slice image alone takes 10 x 66 tokens
  const omnirm::text::Tokenizer tokenizer = omnirm::text::Tokenizer::load(config.data.tokenizer);
  for (const char* policy : {"truncate", "drop"}) {
    config.data.truncation = policy;
    const omnirm::train::EncodedDataset dataset =
        omnirm::train::load_encoded_dataset(fixture("pairs.jsonl"), tokenizer, config, false);
    SCOPED_TRACE(policy);
    EXPECT_GT(dataset.encode.dropped, 0);
    EXPECT_EQ(dataset.size() + dataset.encode.dropped, kPairs);
    for (const omnirm::data::EncodedPair& pair : dataset.pairs) {
      EXPECT_NE(pair.id, "image_nine_slices");
      EXPECT_LE(int64_t(pair.tokens.prompt.size() +
                        std::max(pair.tokens.chosen.size(), pair.tokens.rejected.size())),
                300);
    }
  }
}

// A frame the plugin would have to cut into slices (above model.slice_resolution² after the
// frame cap) has no layout in LLaMA-Factory's video placeholders: the record is refused with the
// key to change, or skipped and counted under data.on_bad_record: skip.
TEST(MinicpmoPath, AVideoWhoseFramesWouldBeSlicedIsRefusedNamingTheFrameCap) {
  if (!omnirm::train::media_decoding_available()) {
    GTEST_SKIP() << "this build has no media decoding (GPU build profile)";
  }
  omnirm::Config config = fixture_config();
  config.data.video_max_pixels = 256 * 256;  // the recipe's cap, above the tiny model's 56²
  const omnirm::text::Tokenizer tokenizer = omnirm::text::Tokenizer::load(config.data.tokenizer);
  const std::string message = omnirm::testing::user_error_of([&] {
    omnirm::train::load_encoded_dataset(fixture("pairs.jsonl"), tokenizer, config, false);
  });
  EXPECT_NE(message.find("pairs.jsonl:15"), std::string::npos) << message;
  EXPECT_NE(message.find("clip_rgb.mp4: a 96x64 frame"), std::string::npos) << message;
  EXPECT_NE(message.find("set data.video_max_pixels to at most 3136"), std::string::npos)
      << message;

  config.data.on_bad_record = "skip";
  const omnirm::train::EncodedDataset dataset =
      omnirm::train::load_encoded_dataset(fixture("pairs.jsonl"), tokenizer, config, false);
  // Only clip_rgb's 96 x 64 frames exceed 56² pixels (clip_yuv's are 64 x 48, t2v's 40 x 48
  // and 48 x 40).
  EXPECT_EQ(dataset.size(), kPairs - 1);
  EXPECT_EQ(dataset.read.skipped, 1);
}

}  // namespace
