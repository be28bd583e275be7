// The reward model: the pair-prefix packed layout gives the rewards of the naive
// two-sequence layout, for pairs of mixed lengths, in fp64 (1e-10) and fp32 (2e-5); its loss
// is bt_loss of its rewards, with and without head dropout.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <array>
#include <set>

#include "omnirm/data/pair_batch.h"
#include "omnirm/model/reward_model.h"
#include "omnirm/ops/bt_loss.h"

namespace {

using omnirm::ModelConfig;
using omnirm::data::PairBatch;
using omnirm::text::PairTokens;

omnirm::model::ModelInputs inputs_of(const PairBatch& batch) {
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
  in.margins = at::tensor(batch.margins, at::kFloat);
  return in;
}

std::vector<PairTokens> random_pairs(int64_t vocab) {
  // (P, C, R) lengths: long prompt, one-token prompt, unequal responses, one-token responses.
  const std::vector<std::array<int, 3>> shapes = {{12, 3, 5}, {1, 4, 2}, {7, 1, 1}, {20, 9, 6}};
  std::vector<PairTokens> pairs;
  for (const auto& s : shapes) {
    auto ids = [&](int n) {
      at::Tensor t = at::randint(vocab, {n}, at::kInt);
      return std::vector<int32_t>(t.data_ptr<int32_t>(), t.data_ptr<int32_t>() + n);
    };
    pairs.push_back(PairTokens{ids(s[0]), ids(s[1]), ids(s[2])});
  }
  return pairs;
}

void expect_layouts_agree(at::ScalarType dtype, const std::string& backend, double tolerance) {
  at::manual_seed(5);
  ModelConfig config;
  config.hidden_size = 32;
  config.num_layers = 2;
  config.num_heads = 4;
  config.num_kv_heads = 2;
  config.intermediate_size = 64;
  config.attention_backend = backend;
  omnirm::model::RewardModel model(config, 50);
  omnirm::model::initialize_weights(*model);
  model->to(dtype);
  model->eval();
  const auto pairs = random_pairs(50);
  std::vector<const PairTokens*> pointers;
  for (const auto& p : pairs) pointers.push_back(&p);
  const std::vector<float> margins(pairs.size(), 0.0f);
  const PairBatch shared = omnirm::data::pack_pairs(pointers, margins, true);
  const PairBatch naive = omnirm::data::pack_pairs(pointers, margins, false);
  ASSERT_LT(shared.tokens_in_batch(), naive.tokens_in_batch());
  at::NoGradGuard no_grad;
  const auto a = model->forward(inputs_of(shared));
  const auto b = model->forward(inputs_of(naive));
  EXPECT_LT((a.chosen - b.chosen).abs().max().item<double>(), tolerance);
  EXPECT_LT((a.rejected - b.rejected).abs().max().item<double>(), tolerance);
  // The rewards are not trivially equal to each other.
  EXPECT_GT((a.chosen - a.rejected).abs().max().item<double>(), 1e-6);
}

TEST(RewardModel, PairPrefixEqualsNaiveLayoutFp64) {
  expect_layouts_agree(at::kDouble, "reference", 1e-10);
}

TEST(RewardModel, PairPrefixEqualsNaiveLayoutFp32) {
  expect_layouts_agree(at::kFloat, "reference", 2e-5);
  expect_layouts_agree(at::kFloat, "sdpa", 2e-5);
}

TEST(RewardModel, ParameterNamesFollowTheQwen2Layout) {
  ModelConfig config;
  omnirm::model::RewardModel model(config, 10);
  std::set<std::string> names;
  for (const auto& p : model->named_parameters()) names.insert(p.key());
  for (const char* expected :
       {"model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
        "model.layers.0.self_attn.q_proj.bias", "model.layers.1.mlp.gate_proj.weight",
        "model.layers.1.post_attention_layernorm.weight", "model.norm.weight", "score.weight",
        "score.bias"}) {
    EXPECT_TRUE(names.count(expected)) << expected;
  }
  EXPECT_FALSE(names.count("model.layers.0.self_attn.o_proj.bias"));
}

TEST(RewardModel, GradientsReachEveryParameter) {
  at::manual_seed(1);
  ModelConfig config;
  config.hidden_size = 16;
  config.num_heads = 2;
  config.num_kv_heads = 1;
  config.intermediate_size = 32;
  omnirm::model::RewardModel model(config, 30);
  omnirm::model::initialize_weights(*model);
  const auto pairs = random_pairs(30);
  std::vector<const PairTokens*> pointers;
  for (const auto& p : pairs) pointers.push_back(&p);
  const PairBatch batch =
      omnirm::data::pack_pairs(pointers, std::vector<float>(pairs.size()), true);
  const auto out = model->forward(inputs_of(batch));
  (2.0 * out.chosen - out.rejected)
      .sum()
      .backward();  // not antisymmetric: the bias gets a gradient too
  for (const auto& p : model->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
  }
}

// loss() is bt_loss of forward()'s rewards with the batch's margins, to the bit: on the CPU
// through ops::reward_head_loss, and with head dropout active (training) through forward()
// itself (the same dropout mask from the same generator state).
TEST(RewardModel, LossIsBtLossOfTheRewards) {
  for (const double dropout : {0.0, 0.3}) {
    at::manual_seed(2);
    ModelConfig config;
    config.hidden_size = 16;
    config.num_heads = 2;
    config.num_kv_heads = 1;
    config.intermediate_size = 32;
    config.head_dropout = dropout;
    omnirm::model::RewardModel model(config, 30);
    omnirm::model::initialize_weights(*model);
    model->train();
    const auto pairs = random_pairs(30);
    std::vector<const PairTokens*> pointers;
    for (const auto& p : pairs) pointers.push_back(&p);
    const std::vector<float> margins = {0.5f, 0.0f, 1.0f, 0.25f};
    const omnirm::model::ModelInputs inputs =
        inputs_of(omnirm::data::pack_pairs(pointers, margins, true));

    at::manual_seed(9);
    const omnirm::model::RewardLoss loss = model->loss(inputs, 0.01);
    at::manual_seed(9);
    const omnirm::model::RewardOutput rewards = model->forward(inputs);
    const at::Tensor expected =
        omnirm::ops::bt_loss(rewards.chosen, rewards.rejected, inputs.margins, 0.01);
    EXPECT_TRUE(at::equal(loss.loss, expected)) << "head dropout " << dropout;
    EXPECT_TRUE(at::equal(loss.chosen, rewards.chosen.detach()));
    EXPECT_TRUE(at::equal(loss.rejected, rewards.rejected.detach()));
    EXPECT_TRUE(loss.loss.requires_grad());
    EXPECT_FALSE(loss.chosen.requires_grad());
  }
}

}  // namespace
