// Loading weights from HF layouts: a tiny model with every tower, exported under each layout
// and loaded into a differently seeded model, comes back bit for bit; what a layout lacks is
// reported missing, stray tensors unexpected, LM / TTS heads ignored; a wrong shape is
// refused before anything is copied; the MiniCPM-o transforms (transposed resampler
// projection, resampled position grid, leading Whisper positions) do what they promise.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "omnirm/core/error.h"
#include "omnirm/model/hf_weights.h"
#include "omnirm/model/reward_model.h"
#include "support/test_support.h"

namespace {

using omnirm::ModelConfig;
using omnirm::model::HfLayout;
using omnirm::model::load_hf_weights;
using omnirm::model::NamedTensors;
using omnirm::model::RewardModel;
using omnirm::model::to_hf_tensors;

ModelConfig tiny_config(bool towers, bool qkv_bias = true) {
  ModelConfig config;
  config.hidden_size = 16;
  config.num_layers = 2;
  config.num_heads = 2;
  config.num_kv_heads = 1;
  config.intermediate_size = 24;
  config.qkv_bias = qkv_bias;
  if (towers) {
    config.vision_layers = 1;
    config.vision_hidden = 8;
    config.vision_heads = 2;
    config.vision_intermediate = 16;
    config.image_size = 16;
    config.patch_size = 4;
    config.image_tokens = 4;
    config.max_frames = 4;
    config.audio_layers = 1;
    config.audio_hidden = 8;
    config.audio_heads = 2;
    config.audio_intermediate = 16;
    config.mel_bins = 8;
    config.audio_frames = 20;
    config.audio_pool_stride = 2;
    config.point_layers = 1;
    config.point_hidden = 8;
    config.point_heads = 2;
  }
  return config;
}

RewardModel make_model(const ModelConfig& config, uint64_t seed) {
  at::manual_seed(seed);
  RewardModel model(config, 40);
  omnirm::model::initialize_weights(*model);
  // Norm weights start at 1 in every model; perturb them so a missed copy shows.
  torch::NoGradGuard no_grad;
  for (auto& parameter : model->parameters()) parameter.add_(at::randn_like(parameter) * 0.1);
  return model;
}

std::map<std::string, at::Tensor> state_of(torch::nn::Module& model) {
  std::map<std::string, at::Tensor> state;
  for (const auto& item : model.named_parameters()) state[item.key()] = item.value().clone();
  for (const auto& item : model.named_buffers()) state[item.key()] = item.value().clone();
  return state;
}

std::set<std::string> set_of(const std::vector<std::string>& names) {
  return {names.begin(), names.end()};
}

// Exports `source` under `layout` (plus `extra` tensors), loads into a fresh model of the
// same config and checks every exported tensor arrived bitwise; returns the report.
omnirm::model::HfLoadReport round_trip(const ModelConfig& config, HfLayout layout,
                                       const NamedTensors& extra = {}) {
  RewardModel source = make_model(config, 1);
  RewardModel target = make_model(config, 2);
  NamedTensors tensors = to_hf_tensors(*source, layout);
  tensors.insert(tensors.end(), extra.begin(), extra.end());
  const auto report = load_hf_weights(*target, tensors);
  EXPECT_EQ(report.layout.layout, layout) << report.layout.description();
  const auto before = state_of(*source);
  const auto after = state_of(*target);
  for (const std::string& name : report.loaded)
    EXPECT_TRUE(at::equal(before.at(name), after.at(name))) << name;
  for (const std::string& name : report.missing)  // untouched: still the second seed's
    EXPECT_FALSE(at::equal(before.at(name), after.at(name))) << name;
  return report;
}

TEST(HfWeights, NativeRoundTripLoadsEverything) {
  const auto report = round_trip(tiny_config(true), HfLayout::omnirm);
  RewardModel reference = make_model(tiny_config(true), 3);
  EXPECT_EQ(report.loaded.size(),
            reference->named_parameters().size() + reference->named_buffers().size());
  EXPECT_TRUE(report.missing.empty());
  EXPECT_TRUE(report.unexpected.empty());
}

TEST(HfWeights, Qwen2CausalLmIgnoresLmHeadAndMissesScore) {
  const auto report = round_trip(tiny_config(false), HfLayout::causal_lm,
                                 {{"lm_head.weight", at::randn({40, 16})}});
  EXPECT_EQ(report.layout.decoder, "qwen2");
  EXPECT_EQ(set_of(report.missing), (std::set<std::string>{"score.weight", "score.bias"}));
  ASSERT_EQ(report.ignored.size(), 1u);
  EXPECT_EQ(report.ignored[0].first, "lm_head.weight");
  EXPECT_TRUE(report.unexpected.empty());
}

TEST(HfWeights, LlamaSequenceClassificationAndBareDecoder) {
  const auto cls = round_trip(tiny_config(false, /*qkv_bias=*/false), HfLayout::seq_cls);
  EXPECT_EQ(cls.layout.decoder, "llama");
  EXPECT_EQ(set_of(cls.missing), (std::set<std::string>{"score.bias"}));
  const auto bare = round_trip(tiny_config(false, false), HfLayout::bare);
  EXPECT_EQ(set_of(bare.missing), (std::set<std::string>{"score.weight", "score.bias"}));
  EXPECT_EQ(bare.loaded.size(), 1u + 2u * 9u + 1u);  // embeddings, 2 layers × 9, final norm
}

TEST(HfWeights, MiniCpmoRoundTripWithValueHeadAndIgnoredModules) {
  const auto report = round_trip(
      tiny_config(true), HfLayout::minicpmo,
      {{"llm.lm_head.weight", at::randn({40, 16})}, {"tts.projector.weight", at::randn({3, 3})}});
  EXPECT_TRUE(report.layout.has_value_head);
  EXPECT_EQ(report.ignored.size(), 2u);
  EXPECT_TRUE(report.unexpected.empty());
  // MiniCPM-o has no temporal embedding in its resampler and no point tower: they travel as
  // omnirm_* tensors, so every parameter comes back.
  EXPECT_TRUE(report.missing.empty()) << report.summary();
  EXPECT_TRUE(set_of(report.loaded).count("resampler.temporal_embedding.weight"));
  EXPECT_TRUE(set_of(report.loaded).count("point_tower.proj.weight"));
  EXPECT_TRUE(set_of(report.loaded).count("score.bias"));
  EXPECT_TRUE(set_of(report.loaded).count("audio_tower.embed_positions"));
}

TEST(HfWeights, MiniCpmoResamplerProjectionIsTransposed) {
  RewardModel model = make_model(tiny_config(true), 1);
  const NamedTensors tensors = to_hf_tensors(*model, HfLayout::minicpmo);
  auto found = std::find_if(tensors.begin(), tensors.end(),
                            [](const auto& t) { return t.first == "resampler.proj"; });
  ASSERT_NE(found, tensors.end());
  const at::Tensor weight = state_of(*model).at("resampler.proj.weight");  // [out, embed]
  EXPECT_EQ(found->second.sizes(), (std::vector<int64_t>{weight.size(1), weight.size(0)}));
  EXPECT_TRUE(at::equal(found->second, weight.t()));
}

// model.resampler_hidden = hidden_size gives MiniCPM-o's resampler shapes: kv_proj vision →
// LLM width, a square proj stored for x @ proj; they export and load back bit for bit.
TEST(HfWeights, ResamplerAtLlmWidthHasMiniCpmoShapesAndRoundTrips) {
  ModelConfig config = tiny_config(true);
  config.resampler_hidden = config.hidden_size;  // 16; the vision width is 8
  const auto report = round_trip(config, HfLayout::minicpmo);
  EXPECT_TRUE(report.missing.empty()) << report.summary();
  EXPECT_TRUE(report.unexpected.empty()) << report.summary();
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& [name, tensor] : to_hf_tensors(*make_model(config, 1), HfLayout::minicpmo))
    shapes[name] = tensor.sizes().vec();
  EXPECT_EQ(shapes.at("resampler.query"), (std::vector<int64_t>{4, 16}));
  EXPECT_EQ(shapes.at("resampler.kv_proj.weight"), (std::vector<int64_t>{16, 8}));
  EXPECT_EQ(shapes.at("resampler.attn.in_proj_weight"), (std::vector<int64_t>{48, 16}));
  EXPECT_EQ(shapes.at("resampler.ln_post.weight"), (std::vector<int64_t>{16}));
  EXPECT_EQ(shapes.at("resampler.proj"), (std::vector<int64_t>{16, 16}));
  // The default resampler (vision width) does not take MiniCPM-o's: reported, not refused.
  NamedTensors minicpmo = to_hf_tensors(*make_model(config, 1), HfLayout::minicpmo);
  std::erase_if(minicpmo, [](const auto& t) { return t.first.rfind("omnirm_", 0) == 0; });
  const auto narrow = load_hf_weights(*make_model(tiny_config(true), 2), minicpmo);
  size_t resampler_unexpected = 0;
  for (const auto& [name, why] : narrow.unexpected) {
    EXPECT_EQ(name.rfind("resampler.", 0), 0u) << name;
    EXPECT_NE(why.find("model.resampler_hidden"), std::string::npos) << why;
    ++resampler_unexpected;
  }
  EXPECT_EQ(resampler_unexpected, 13u);  // query, kv_proj, 4 attn, 6 LayerNorm, proj
}

TEST(HfWeights, ValueHeadAloneFillsOnlyTheHead) {
  RewardModel model = make_model(tiny_config(false), 1);
  const at::Tensor weight = at::randn({1, 16}), bias = at::randn({1});
  const auto report =
      load_hf_weights(*model, {{"v_head.summary.weight", weight}, {"v_head.summary.bias", bias}});
  EXPECT_EQ(report.layout.layout, HfLayout::value_head);
  EXPECT_EQ(set_of(report.loaded), (std::set<std::string>{"score.weight", "score.bias"}));
  EXPECT_TRUE(set_of(report.missing).count("model.embed_tokens.weight"));
  EXPECT_FALSE(set_of(report.missing).count("score.weight"));
  const auto state = state_of(*model);
  EXPECT_TRUE(at::equal(state.at("score.weight"), weight));
  EXPECT_TRUE(at::equal(state.at("score.bias"), bias));
}

TEST(HfWeights, UnexpectedTensorsReportedByNameWithReason) {
  RewardModel text_only = make_model(tiny_config(false), 1);
  RewardModel with_towers = make_model(tiny_config(true), 1);
  NamedTensors tensors = to_hf_tensors(*with_towers, HfLayout::minicpmo);
  tensors.emplace_back("llm.visual_tokens.weight", at::zeros({2}));
  const auto report = load_hf_weights(*text_only, tensors);
  std::map<std::string, std::string> unexpected(report.unexpected.begin(), report.unexpected.end());
  ASSERT_TRUE(unexpected.count("llm.visual_tokens.weight"));
  EXPECT_NE(unexpected["llm.visual_tokens.weight"].find("no omnirm counterpart"),
            std::string::npos);
  ASSERT_TRUE(unexpected.count("vpm.post_layernorm.weight"));
  EXPECT_NE(unexpected["vpm.post_layernorm.weight"].find("vision_tower.post_layernorm.weight"),
            std::string::npos);
  EXPECT_TRUE(unexpected.count("apm.conv1.weight"));
  EXPECT_TRUE(report.missing.empty());  // the backbone and head were all there
}

TEST(HfWeights, ShapeMismatchRefusedBeforeAnyCopy) {
  RewardModel source = make_model(tiny_config(false), 1);
  ModelConfig wider = tiny_config(false);
  wider.intermediate_size = 32;
  RewardModel target = make_model(wider, 2);
  const auto before = state_of(*target);
  const std::string message = omnirm::testing::user_error_of(
      [&] { load_hf_weights(*target, to_hf_tensors(*source, HfLayout::minicpmo)); });
  EXPECT_NE(message.find("llm.model.layers.0.mlp.gate_proj.weight"), std::string::npos) << message;
  EXPECT_NE(message.find("[24, 16]"), std::string::npos) << message;
  EXPECT_NE(message.find("[32, 16]"), std::string::npos) << message;
  EXPECT_NE(message.find("more tensors"), std::string::npos) << message;
  const auto after = state_of(*target);
  for (const auto& [name, tensor] : before) EXPECT_TRUE(at::equal(tensor, after.at(name))) << name;
}

TEST(HfWeights, MiniCpmoResamplerAtLlmWidthIsReportedNotRefused) {
  RewardModel model = make_model(tiny_config(true), 1);  // resampler width 8, LLM width 16
  const auto before = state_of(*model);
  const auto report = load_hf_weights(*model, {{"llm.model.norm.weight", at::randn({16})},
                                               {"resampler.query", at::randn({4, 16})},
                                               {"resampler.proj", at::randn({16, 16})}});
  EXPECT_EQ(report.loaded, (std::vector<std::string>{"model.norm.weight"}));
  std::map<std::string, std::string> unexpected(report.unexpected.begin(), report.unexpected.end());
  ASSERT_EQ(unexpected.size(), 2u);
  EXPECT_NE(unexpected["resampler.query"].find("LLM's width"), std::string::npos);
  EXPECT_NE(unexpected["resampler.proj"].find("file [16, 16], model [16, 8]"), std::string::npos)
      << unexpected["resampler.proj"];
  EXPECT_TRUE(at::equal(before.at("resampler.query"), state_of(*model).at("resampler.query")));
  // Elsewhere a wrong shape is still refused.
  EXPECT_NE(omnirm::testing::user_error_of([&] {
              load_hf_weights(*model, {{"apm.conv1.weight", at::randn({8, 8, 2})}},
                              {HfLayout::minicpmo, "", false});
            }).find("apm.conv1.weight"),
            std::string::npos);
}

// `omnirm export` writes model.* and score.weight (no bias) to model.safetensors and the head
// again, with its bias, to value_head.safetensors: the two files together load completely.
TEST(HfWeights, ExportDirectoryWithValueHeadLoadsCompletely) {
  RewardModel source = make_model(tiny_config(false), 1);
  RewardModel target = make_model(tiny_config(false), 2);
  NamedTensors tensors = to_hf_tensors(*source, HfLayout::seq_cls);
  const NamedTensors head = to_hf_tensors(*source, HfLayout::value_head);
  ASSERT_EQ(head.size(), 2u);
  tensors.insert(tensors.end(), head.begin(), head.end());
  const auto report = load_hf_weights(*target, tensors);
  EXPECT_EQ(report.layout.description(),
            "Qwen2ForSequenceClassification (qwen2 decoder) + LLaMA-Factory value head");
  EXPECT_TRUE(report.missing.empty()) << report.summary();
  EXPECT_TRUE(report.unexpected.empty()) << report.summary();
  ASSERT_EQ(report.ignored.size(), 1u) << report.summary();
  EXPECT_EQ(report.ignored[0].first, "v_head.summary.weight");
  EXPECT_TRUE(at::equal(state_of(*source).at("score.bias"), state_of(*target).at("score.bias")));
}

TEST(HfWeights, DuplicateTargetsMustAgree) {
  RewardModel model = make_model(tiny_config(false), 1);
  const at::Tensor head = at::randn({1, 16});
  const auto same =
      load_hf_weights(*model, {{"score.weight", head}, {"v_head.summary.weight", head.clone()}});
  ASSERT_EQ(same.ignored.size(), 1u);
  EXPECT_EQ(same.ignored[0].first, "v_head.summary.weight");
  const std::string message = omnirm::testing::user_error_of([&] {
    load_hf_weights(*model, {{"score.weight", head}, {"v_head.summary.weight", head + 1}});
  });
  EXPECT_NE(message.find("different values"), std::string::npos) << message;
}

TEST(HfWeights, PositionGridIsBucketedLikeMiniCpmo) {
  RewardModel model = make_model(tiny_config(true), 1);  // 4×4 patch grid, width 8
  const int64_t grid = 6, side = 4, width = 8;
  // Row r of the file's table holds r in every column.
  const at::Tensor table =
      at::arange(grid * grid, at::kFloat).unsqueeze(1).expand({grid * grid, width}).contiguous();
  const auto report = load_hf_weights(*model, {{"vpm.embeddings.position_embedding.weight", table}},
                                      {HfLayout::minicpmo, "", false});
  ASSERT_EQ(report.loaded.size(), 1u);
  const at::Tensor loaded =
      state_of(*model).at("vision_tower.embeddings.position_embedding.weight");
  ASSERT_EQ(loaded.sizes(), (std::vector<int64_t>{side * side, width}));
  // Bucketing of fractional coordinates i/s against boundaries k/G (k = 1..G-1).
  auto bucket = [&](int64_t i) {
    int64_t count = 0;
    for (int64_t k = 1; k < grid; ++k)
      if (static_cast<double>(k) / grid <= static_cast<double>(i) / side) ++count;
    return count;
  };
  for (int64_t i = 0; i < side; ++i)
    for (int64_t j = 0; j < side; ++j)
      EXPECT_EQ(loaded[i * side + j][0].item<float>(),
                static_cast<float>(bucket(i) * grid + bucket(j)))
          << i << "," << j;
}

TEST(HfWeights, WhisperPositionsTakeLeadingRowsAndOddGridsAreRefused) {
  RewardModel model = make_model(tiny_config(true), 1);
  const at::Tensor positions = at::randn({30, 8});  // the model keeps (20 + 1) / 2 = 10 rows
  load_hf_weights(*model, {{"apm.embed_positions.weight", positions}},
                  {HfLayout::minicpmo, "", false});
  EXPECT_TRUE(
      at::equal(state_of(*model).at("audio_tower.embed_positions"), positions.narrow(0, 0, 10)));
  const std::string message = omnirm::testing::user_error_of([&] {
    load_hf_weights(*model, {{"vpm.embeddings.position_embedding.weight", at::randn({35, 8})}},
                    {HfLayout::minicpmo, "", false});
  });
  EXPECT_NE(message.find("[35, 8]"), std::string::npos) << message;
}

}  // namespace
