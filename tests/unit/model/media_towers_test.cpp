// The media towers: output shapes, gradient flow to every parameter, HF-style names, and the
// properties each promises (padding keys ignored, temporal positions change video tokens,
// farthest-point sampling spreads out, permutation of a cloud's points changes nothing).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "omnirm/model/audio_tower.h"
#include "omnirm/model/point_tower.h"
#include "omnirm/model/vision_tower.h"

#include <torch/nn/modules/container/sequential.h>
#include <set>

namespace {

using namespace omnirm::model;

void expect_every_parameter_gets_a_gradient(torch::nn::Module& module, const at::Tensor& out) {
  out.pow(2).sum().backward();
  for (const auto& p : module.named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
  }
}

TEST(MediaTowers, VisionTowerAndResampler) {
  at::manual_seed(0);
  VisionTowerOptions vo;  // 64x64 images, 16x16 patches → 16 patches
  VisionTower tower(vo);
  ResamplerOptions ro;
  ro.num_queries = 8;
  ro.kv_dim = vo.hidden_size;
  ro.out_dim = 48;
  Resampler resampler(ro);
  at::Tensor pixels = at::rand({3, 3, 64, 64}) * 2 - 1;
  at::Tensor features = tower->forward(pixels);
  EXPECT_EQ(features.sizes(), (std::vector<int64_t>{3, 16, vo.hidden_size}));
  at::Tensor tokens = resampler->forward(features, at::tensor(std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(tokens.sizes(), (std::vector<int64_t>{3, 8, 48}));
  torch::nn::Sequential both;
  both->push_back("vpm", tower.ptr());
  both->push_back("resampler", resampler.ptr());
  expect_every_parameter_gets_a_gradient(*both, tokens);

  std::set<std::string> names;
  for (const auto& p : tower->named_parameters()) names.insert(p.key());
  for (const char* name :
       {"embeddings.patch_embedding.weight", "embeddings.position_embedding.weight",
        "encoder.layers.0.layer_norm1.weight", "encoder.layers.1.mlp.fc2.bias",
        "encoder.layers.0.self_attn.out_proj.weight", "post_layernorm.bias"}) {
    EXPECT_TRUE(names.count(name)) << name;
  }
}

// With motion channels the patch embedding gets 2 more input channels per frame pair, which the
// tower computes itself from the plain tubelet; every parameter still trains.
TEST(MediaTowers, VisionTowerWithMotionChannels) {
  at::manual_seed(3);
  VisionTowerOptions options;
  options.image_size = 16;
  options.patch_size = 4;
  options.num_layers = 1;
  options.temporal_patch = 2;
  options.motion_channels = true;
  VisionTower tower(options);
  const at::Tensor weight = tower->named_parameters()["embeddings.patch_embedding.weight"];
  EXPECT_EQ(weight.size(1), 3 * 2 + 2);
  const at::Tensor features = tower->forward(at::rand({1, 6, 16, 16}) * 2 - 1);
  EXPECT_EQ(features.sizes(), (std::vector<int64_t>{1, 16, options.hidden_size}));
  expect_every_parameter_gets_a_gradient(*tower, features);
  // The maps are computed inside: the tower takes the tubelet's 6 channels, not 8.
  EXPECT_THROW(tower->forward(at::rand({1, 8, 16, 16})), c10::Error);
}

TEST(MediaTowers, TemporalPositionsDistinguishVideoFrames) {
  at::manual_seed(1);
  ResamplerOptions ro;
  ro.kv_dim = 64;
  Resampler resampler(ro);
  at::Tensor features = at::randn({1, 16, 64}).expand({2, 16, 64});
  at::NoGradGuard no_grad;
  at::Tensor out = resampler->forward(features, at::tensor(std::vector<int64_t>{0, 3}));
  EXPECT_GT((out[0] - out[1]).abs().max().item<float>(), 1e-4f);  // same frame, other time
  EXPECT_THROW(resampler->forward(features, at::tensor(std::vector<int64_t>{0, 64})), c10::Error);
}

// Two images that differ in one corner patch only: with a strong locality prior, the query
// whose cell holds that corner changes and the query of the opposite corner hardly does;
// without it, every query sees the change alike.
TEST(MediaTowers, ResamplerLocalityKeepsRegionsApart) {
  auto change_per_query = [](double locality) {
    at::manual_seed(2);
    ResamplerOptions ro;
    ro.num_queries = 4;  // a 2 x 2 grid of cells over a 4 x 4 patch grid
    ro.kv_dim = 64;
    ro.locality = locality;
    ro.grid_side = 4;
    Resampler resampler(ro);
    at::NoGradGuard no_grad;
    at::Tensor features = at::randn({1, 16, 64}).repeat({2, 1, 1});
    features[1][0] += at::randn({64}) * 4;  // patch (0, 0): the top-left cell's corner
    at::Tensor out = resampler->forward(features, at::zeros({2}, at::kLong));
    return (out[0] - out[1]).norm(2, {1});  // [4]: change of each query's token
  };
  const at::Tensor local = change_per_query(8.0);
  EXPECT_GT(local[0].item<float>(), 50 * local[3].item<float>());
  const at::Tensor global = change_per_query(0.0);
  EXPECT_LT(global[0].item<float>(), 5 * global[3].item<float>());
  ResamplerOptions mismatched;
  mismatched.locality = 1.0;
  mismatched.grid_side = 3;  // 9 patches, but the features below bring 16
  Resampler resampler(mismatched);
  EXPECT_THROW(resampler->forward(at::randn({1, 16, 64}), at::zeros({1}, at::kLong)), c10::Error);
}

TEST(MediaTowers, MinicpmoResamplerHidesPaddedKeysInBf16AsInFp32) {
  at::manual_seed(0);
  ResamplerOptions ro;
  ro.minicpmo = true;
  ro.num_queries = 8;
  ro.embed_dim = ro.kv_dim = ro.out_dim = 64;
  ro.num_heads = 4;
  Resampler resampler(ro);
  // Two items of 12 patches: a 3x4 grid, and a 2x3 grid whose last 6 patches are padding.
  at::Tensor features = at::randn({2, 12, 64});
  const at::Tensor key_mask = at::ones({2, 12}, at::kBool);
  key_mask[1].narrow(0, 6, 6).fill_(false);
  const at::Tensor grids = at::tensor(std::vector<int64_t>{3, 4, 2, 3}).view({2, 2});
  const at::Tensor fp32 = resampler->forward_grid(features, key_mask, grids);
  EXPECT_EQ(fp32.sizes(), (std::vector<int64_t>{2, 8, 64}));

  // What sits in the padded patches changes nothing.
  at::Tensor other = features.clone();
  other[1].narrow(0, 6, 6).normal_();
  EXPECT_TRUE(at::allclose(resampler->forward_grid(other, key_mask, grids), fp32, 0, 1e-6));

  resampler->to(at::kBFloat16);
  const at::Tensor bf16 = resampler->forward_grid(features.to(at::kBFloat16), key_mask, grids);
  ASSERT_EQ(bf16.scalar_type(), at::kBFloat16);
  // bf16 keeps 8 bits of mantissa: through two layer norms and four projections the outputs,
  // of order 1, stay within a few bf16 steps of fp32.
  EXPECT_LT((bf16.to(at::kFloat) - fp32).abs().max().item<double>(), 0.1);
}

TEST(MediaTowers, AudioTower) {
  at::manual_seed(2);
  AudioTowerOptions ao;
  ao.out_dim = 40;
  AudioTower tower(ao);
  at::Tensor mel = at::randn({2, 80, 100});
  at::Tensor tokens = tower->forward(mel);
  EXPECT_EQ(tokens.sizes(), (std::vector<int64_t>{2, tower->tokens_for_frames(100), 40}));
  EXPECT_EQ(tower->tokens_for_frames(100), 25);
  expect_every_parameter_gets_a_gradient(*tower, tokens);
  std::set<std::string> names;
  for (const auto& p : tower->named_parameters()) names.insert(p.key());
  for (const char* name : {"conv1.weight", "conv2.bias", "layers.0.self_attn_layer_norm.weight",
                           "layers.1.fc1.weight", "layers.0.self_attn.q_proj.bias",
                           "layer_norm.weight", "audio_projection_layer.linear2.weight"}) {
    EXPECT_TRUE(names.count(name)) << name;
  }
  EXPECT_FALSE(names.count("layers.0.self_attn.k_proj.bias"));  // Whisper's k_proj has none
}

TEST(MediaTowers, FarthestPointSamplingSpreadsOut) {
  // Two tight clusters far apart: the first two centres must come from different clusters.
  at::Tensor cluster_a = at::randn({1, 50, 3}) * 0.01;
  at::Tensor cluster_b = at::randn({1, 50, 3}) * 0.01 + 10.0;
  at::Tensor points = at::cat({cluster_a, cluster_b}, 1);
  at::Tensor chosen = farthest_point_sample(points, 2);
  EXPECT_EQ(chosen[0][0].item<int64_t>(), 0);
  EXPECT_GE(chosen[0][1].item<int64_t>(), 50);
}

TEST(MediaTowers, PointTowerShapesGradientsAndOrderInvariance) {
  at::manual_seed(3);
  PointTowerOptions po;
  po.out_dim = 32;
  PointTower tower(po);
  at::Tensor points = at::randn({2, 128, 3});
  at::Tensor tokens = tower->forward(points);
  EXPECT_EQ(tokens.sizes(), (std::vector<int64_t>{2, po.num_groups, 32}));
  expect_every_parameter_gets_a_gradient(*tower, tokens);
  // Same cloud, points reordered but the first point kept first (FPS starts there).
  at::NoGradGuard no_grad;
  at::Tensor order = at::cat({at::zeros({1}, at::kLong), 1 + at::randperm(127)});
  at::Tensor reordered = points.index_select(1, order);
  EXPECT_LT((tower->forward(points) - tower->forward(reordered)).abs().max().item<float>(), 1e-4f);
}

}  // namespace
