// Parity with transformers: omnirm's modules, loaded with the weights of tiny random HF models
// (tests/fixtures/parity/, written by tools/make_parity_fixtures.py), give HF's outputs on the
// same inputs within 1e-4 in fp32. Compared:
//   Qwen2     — backbone hidden states after the final norm (Qwen2Model.last_hidden_state) and
//               the seq-cls rewards (score at the last non-pad token), both with two separate
//               rows and with omnirm's pair-prefix row [prompt | chosen | rejected];
//   SigLIP    — VisionTower::forward against SiglipVisionModel.last_hidden_state (both end
//               with post_layernorm; the resampler is MiniCPM-V's, not SigLIP's: not compared);
//   Whisper   — AudioTower::encode against WhisperEncoder.last_hidden_state (the pooling and
//               projector after it are MiniCPM-o's, not Whisper's: not compared), and omnirm's
//               own sinusoidal positions against HF's embed_positions.
// Each test prints the largest absolute difference it observed.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>

#include "omnirm/data/pair_batch.h"
#include "omnirm/io/safetensors.h"
#include "omnirm/model/audio_tower.h"
#include "omnirm/model/reward_model.h"
#include "omnirm/model/vision_tower.h"

namespace {

constexpr double kTolerance = 1e-4;

std::map<std::string, at::Tensor> load_fixture(const std::string& name) {
  const std::string path = std::string(OMNIRM_SOURCE_DIR) + "/tests/fixtures/parity/" + name;
  std::map<std::string, at::Tensor> out;
  for (auto& [key, tensor] : omnirm::io::load_safetensors(path).tensors) out[key] = tensor;
  return out;
}

// Copies HF weights into every parameter of `module` whose name, with `hf_prefix` in front,
// the file has; parameters named in `omnirm_only` (prefixes) have no HF counterpart and are
// left alone. Fails the test for any other parameter the file lacks, or a shape mismatch.
// Returns how many HF tensors were used.
size_t load_hf_weights(torch::nn::Module& module, const std::map<std::string, at::Tensor>& hf,
                       const std::string& hf_prefix,
                       const std::vector<std::string>& omnirm_only = {}) {
  at::NoGradGuard no_grad;
  size_t used = 0;
  for (auto& item : module.named_parameters()) {
    const std::string& name = item.key();
    bool skip = false;
    for (const auto& prefix : omnirm_only) skip = skip || name.rfind(prefix, 0) == 0;
    if (skip) continue;
    auto found = hf.find(hf_prefix + name);
    if (found == hf.end()) {
      ADD_FAILURE() << "no HF tensor " << hf_prefix + name;
      continue;
    }
    if (!found->second.sizes().equals(item.value().sizes())) {
      ADD_FAILURE() << name << ": HF shape " << found->second.sizes() << ", omnirm "
                    << item.value().sizes();
      continue;
    }
    item.value().copy_(found->second);
    ++used;
  }
  return used;
}

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

void report(const char* what, double error) {
  std::printf("[ parity   ] %-44s max |omnirm - HF| = %.3g\n", what, error);
}

// The fixture's Qwen2: 2 layers, hidden 64, 4 heads over 2 KV heads, SwiGLU 128, vocab 96;
// Qwen2ForSequenceClassification has no score bias.
omnirm::ModelConfig qwen2_config(const std::string& backend) {
  omnirm::ModelConfig config;
  config.hidden_size = 64;
  config.num_layers = 2;
  config.num_heads = 4;
  config.num_kv_heads = 2;
  config.intermediate_size = 128;
  config.rope_theta = 10000.0;
  config.rms_norm_eps = 1e-6;
  config.qkv_bias = true;
  config.head_bias = false;
  config.attention_backend = backend;
  return config;
}

struct Qwen2Fixture {
  omnirm::model::RewardModel model{nullptr};
  at::Tensor input_ids;  // [2, L] int64, row 1 right-padded
  std::vector<int64_t> lengths;
  int64_t prompt_length = 0;
  at::Tensor hidden;   // [2, L, 64]
  at::Tensor rewards;  // [2]
};

Qwen2Fixture load_qwen2(const std::string& backend) {
  Qwen2Fixture f;
  const auto weights = load_fixture("qwen2.safetensors");
  f.model = omnirm::model::RewardModel(qwen2_config(backend), 96);
  EXPECT_EQ(load_hf_weights(*f.model, weights, ""), weights.size());
  f.model->eval();
  auto io = load_fixture("qwen2_io.safetensors");
  f.input_ids = io.at("input_ids");
  for (int64_t i = 0; i < io.at("lengths").size(0); ++i) {
    f.lengths.push_back(io.at("lengths")[i].item<int64_t>());
  }
  f.prompt_length = io.at("prompt_length")[0].item<int64_t>();
  f.hidden = io.at("hidden");
  f.rewards = io.at("rewards");
  return f;
}

// Each HF row as its own causal row (no padding), through the backbone and the head.
void expect_qwen2_rows_match(const std::string& backend) {
  Qwen2Fixture f = load_qwen2(backend);
  std::vector<at::Tensor> tokens, positions, expected_hidden;
  std::vector<int64_t> offsets = {0}, last;
  std::vector<int8_t> segments;
  for (size_t row = 0; row < f.lengths.size(); ++row) {
    const int64_t n = f.lengths[row];
    tokens.push_back(f.input_ids[row].narrow(0, 0, n));
    positions.push_back(at::arange(n, at::kLong));
    expected_hidden.push_back(f.hidden[row].narrow(0, 0, n));
    offsets.push_back(offsets.back() + n);
    last.push_back(offsets.back() - 1);
    segments.insert(segments.end(), n, omnirm::data::kPrompt);
  }
  const auto layout = omnirm::ops::make_attention_layout(offsets, segments, at::Device(at::kCPU));
  at::NoGradGuard no_grad;
  const at::Tensor hidden = f.model->backbone().forward(
      at::cat(tokens), at::cat(positions), layout,
      omnirm::ops::resolve_attention_backend(backend, c10::DeviceType::CPU));
  const at::Tensor rewards =
      f.model->score_hidden(hidden.index_select(0, at::tensor(last, at::kLong)));
  const double hidden_error = max_abs_diff(hidden, at::cat(expected_hidden));
  const double reward_error = max_abs_diff(rewards, f.rewards);
  report(("Qwen2 hidden states, " + backend).c_str(), hidden_error);
  report(("Qwen2 seq-cls rewards, " + backend).c_str(), reward_error);
  EXPECT_LT(hidden_error, kTolerance);
  EXPECT_LT(reward_error, kTolerance);
  // The two rewards differ, so a head reading the wrong token would show.
  EXPECT_GT((f.rewards[0] - f.rewards[1]).abs().item<double>(), 1e-2);
}

TEST(HfParity, Qwen2HiddenStatesAndRewardsReference) { expect_qwen2_rows_match("reference"); }

TEST(HfParity, Qwen2HiddenStatesAndRewardsSdpa) { expect_qwen2_rows_match("sdpa"); }

// HF row 0 is [prompt | chosen] and row 1 [prompt | rejected]: omnirm's pair-prefix row
// [prompt | chosen | rejected] gives HF's rewards for both, and HF's hidden states for every
// token (the rejected tokens' positions restart at the prompt length).
TEST(HfParity, Qwen2PairPrefixRowGivesTheRewardsOfTwoHfSequences) {
  Qwen2Fixture f = load_qwen2("reference");
  auto ids = [&](int64_t row, int64_t from, int64_t to) {
    at::Tensor t = f.input_ids[row].narrow(0, from, to - from).to(at::kInt).contiguous();
    return std::vector<int32_t>(t.data_ptr<int32_t>(), t.data_ptr<int32_t>() + t.numel());
  };
  const int64_t p = f.prompt_length;
  ASSERT_TRUE(f.input_ids[0].narrow(0, 0, p).equal(f.input_ids[1].narrow(0, 0, p)));
  const omnirm::text::PairTokens pair{ids(0, 0, p), ids(0, p, f.lengths[0]),
                                      ids(1, p, f.lengths[1])};
  const omnirm::data::PairBatch batch = omnirm::data::pack_pairs({&pair}, {0.0f}, true);
  ASSERT_EQ(batch.rows(), 1);
  auto longs = [](const auto& v) {
    return at::tensor(std::vector<int64_t>(v.begin(), v.end()), at::kLong);
  };
  omnirm::model::ModelInputs in;
  in.tokens = longs(batch.tokens);
  in.positions = longs(batch.positions);
  in.layout =
      omnirm::ops::make_attention_layout(batch.row_offsets, batch.segments, at::Device(at::kCPU));
  in.chosen_last = longs(batch.chosen_last);
  in.rejected_last = longs(batch.rejected_last);
  in.margins = at::zeros({1});
  at::NoGradGuard no_grad;
  const omnirm::model::RewardOutput out = f.model->forward(in);
  const double chosen_error = max_abs_diff(out.chosen, f.rewards.narrow(0, 0, 1));
  const double rejected_error = max_abs_diff(out.rejected, f.rewards.narrow(0, 1, 1));
  const at::Tensor hidden = f.model->backbone().forward(in.tokens, in.positions, in.layout,
                                                        omnirm::ops::AttentionBackend::reference);
  const at::Tensor expected =
      at::cat({f.hidden[0].narrow(0, 0, f.lengths[0]), f.hidden[1].narrow(0, p, f.lengths[1] - p)});
  const double hidden_error = max_abs_diff(hidden, expected);
  report("Qwen2 pair-prefix hidden states", hidden_error);
  report("Qwen2 pair-prefix chosen reward", chosen_error);
  report("Qwen2 pair-prefix rejected reward", rejected_error);
  EXPECT_LT(hidden_error, kTolerance);
  EXPECT_LT(chosen_error, kTolerance);
  EXPECT_LT(rejected_error, kTolerance);
}

TEST(HfParity, SiglipVisionTowerMatchesLastHiddenState) {
  omnirm::model::VisionTowerOptions options;
  options.image_size = 32;
  options.patch_size = 8;
  options.hidden_size = 32;
  options.num_layers = 2;
  options.num_heads = 4;
  options.intermediate_size = 64;
  options.layer_norm_eps = 1e-6;
  omnirm::model::VisionTower tower(options);
  const auto weights = load_fixture("siglip.safetensors");
  EXPECT_EQ(load_hf_weights(*tower, weights, "vision_model."), weights.size());
  tower->eval();
  const auto io = load_fixture("siglip_io.safetensors");
  at::NoGradGuard no_grad;
  const at::Tensor out = tower->forward(io.at("pixel_values"));
  ASSERT_TRUE(out.sizes().equals(io.at("last_hidden_state").sizes())) << out.sizes();
  const double error = max_abs_diff(out, io.at("last_hidden_state"));
  report("SigLIP vision last_hidden_state", error);
  EXPECT_LT(error, kTolerance);
}

TEST(HfParity, WhisperAudioEncoderMatchesLastHiddenState) {
  omnirm::model::AudioTowerOptions options;
  options.num_mel_bins = 80;
  options.hidden_size = 32;
  options.num_layers = 2;
  options.num_heads = 4;
  options.intermediate_size = 64;
  options.max_source_positions = 30;
  omnirm::model::AudioTower tower(options);
  const auto weights = load_fixture("whisper.safetensors");
  // Every Whisper encoder tensor but the fixed positions (a buffer in omnirm, compared
  // below) has an omnirm parameter; the projector is omnirm's own.
  EXPECT_EQ(load_hf_weights(*tower, weights, "encoder.", {"audio_projection_layer."}),
            weights.size() - 1);
  tower->eval();
  at::Tensor positions;
  for (const auto& buffer : tower->named_buffers()) {
    if (buffer.key() == "embed_positions") positions = buffer.value();
  }
  ASSERT_TRUE(positions.defined());
  const at::Tensor hf_positions = weights.at("encoder.embed_positions.weight");
  const double position_error =
      max_abs_diff(positions.narrow(0, 0, hf_positions.size(0)), hf_positions);
  report("Whisper sinusoidal positions", position_error);
  EXPECT_LT(position_error, 1e-5);

  const auto io = load_fixture("whisper_io.safetensors");
  at::NoGradGuard no_grad;
  const at::Tensor out = tower->encode(io.at("input_features"));
  ASSERT_TRUE(out.sizes().equals(io.at("last_hidden_state").sizes())) << out.sizes();
  const double error = max_abs_diff(out, io.at("last_hidden_state"));
  report("Whisper encoder last_hidden_state", error);
  EXPECT_LT(error, kTolerance);
}

}  // namespace
