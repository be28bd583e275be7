// LoRA: adapters go on the targeted projections only, everything but the adapters and the
// value head is frozen, a fresh adapter leaves the rewards unchanged, merging gives the
// rewards of the unmerged model and leaves exactly the base parameter names, and the PEFT
// names of the adapter tensors.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "media_test_batch.h"
#include "omnirm/model/lora.h"
#include "omnirm/model/reward_model.h"

namespace {

using namespace omnirm::model;
namespace mt = omnirm::model::testing;

omnirm::ModelConfig small_config() {
  omnirm::ModelConfig config;
  config.hidden_size = 32;
  config.num_layers = 2;
  config.num_heads = 4;
  config.num_kv_heads = 2;
  config.intermediate_size = 64;
  return config;
}

RewardModel make_model(uint64_t seed) {
  at::manual_seed(seed);
  RewardModel model(small_config(), mt::kVocab);
  initialize_weights(*model);
  model->eval();
  return model;
}

ModelInputs some_inputs() {
  at::manual_seed(8);
  const std::vector<omnirm::text::PairTokens> pairs = {
      {mt::text_tokens(5), mt::text_tokens(3), mt::text_tokens(4)},
      {mt::text_tokens(2), mt::text_tokens(6), mt::text_tokens(1)}};
  return mt::pack(small_config(), pairs, {}, true);
}

std::set<std::string> names_of(RewardModelImpl& model) {
  std::set<std::string> names;
  for (const auto& item : model.named_parameters()) names.insert(item.key());
  return names;
}

omnirm::LoraConfig lora(const std::string& targets) {
  omnirm::LoraConfig config;
  config.rank = 4;
  config.alpha = 8.0;
  config.target_modules = targets;
  return config;
}

TEST(Lora, AdaptsTheTargetsAndFreezesTheRest) {
  RewardModel model = make_model(1);
  const std::set<std::string> base = names_of(*model);
  EXPECT_EQ(apply_lora(*model, lora("q_proj, v_proj")), 4);  // 2 layers x 2 targets
  for (const auto& item : model->named_parameters()) {
    const std::string& name = item.key();
    const bool adapter = name.find(".lora_") != std::string::npos;
    EXPECT_EQ(item.value().requires_grad(), adapter || name.starts_with("score.")) << name;
    if (adapter) {
      EXPECT_TRUE(name.find(".q_proj.lora_") != std::string::npos ||
                  name.find(".v_proj.lora_") != std::string::npos)
          << name;
    } else {
      EXPECT_TRUE(base.count(name)) << name;
    }
  }
  const auto a = model->named_parameters()["model.layers.1.self_attn.q_proj.lora_A.weight"];
  const auto b = model->named_parameters()["model.layers.1.self_attn.q_proj.lora_B.weight"];
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{4, 32}));
  EXPECT_EQ(b.sizes(), (std::vector<int64_t>{32, 4}));
  EXPECT_TRUE(has_lora(*model));
  EXPECT_EQ(lora_target_modules(lora("all")).size(), 7u);
}

TEST(Lora, FreshAdaptersChangeNothingAndMergedMatchesUnmerged) {
  RewardModel plain = make_model(2);
  RewardModel adapted = make_model(2);
  apply_lora(*adapted, lora("all"));
  const ModelInputs inputs = some_inputs();
  at::NoGradGuard no_grad;
  const RewardOutput before = plain->forward(inputs);
  const RewardOutput fresh = adapted->forward(inputs);
  EXPECT_TRUE(at::allclose(before.chosen, fresh.chosen, 0, 1e-6));
  // As after training: B no longer zero.
  for (auto& item : adapted->named_parameters()) {
    if (item.key().find(".lora_B.") != std::string::npos) item.value().normal_(0.0, 0.05);
  }
  const RewardOutput trained = adapted->forward(inputs);
  EXPECT_GT((trained.chosen - before.chosen).abs().max().item<double>(), 1e-4);
  const auto peft = peft_adapter_tensors(*adapted);
  EXPECT_EQ(peft.size(), 2u * 7u * 2u + 2u);  // A and B of 14 projections, score weight + bias
  EXPECT_EQ(peft.front().first.rfind("base_model.model.", 0), 0u);
  merge_lora(*adapted);
  EXPECT_FALSE(has_lora(*adapted));
  EXPECT_EQ(names_of(*adapted), names_of(*plain));
  const RewardOutput merged = adapted->forward(inputs);
  EXPECT_LT((merged.chosen - trained.chosen).abs().max().item<double>(), 1e-5);
  EXPECT_LT((merged.rejected - trained.rejected).abs().max().item<double>(), 1e-5);
}

TEST(Lora, OnlyAdaptersAndHeadReceiveGradients) {
  RewardModel model = make_model(3);
  apply_lora(*model, lora("all"));
  model->train();
  for (auto& item : model->named_parameters()) {
    if (item.key().find(".lora_B.") != std::string::npos) item.value().data().normal_(0.0, 0.05);
  }
  const RewardOutput out = model->forward(some_inputs());
  (-at::log_sigmoid(out.chosen - out.rejected)).sum().backward();
  for (const auto& item : model->named_parameters()) {
    const bool trainable = item.value().requires_grad();
    EXPECT_EQ(item.value().grad().defined(), trainable) << item.key();
    // The head's bias cancels in r_c - r_r: its gradient is zero under the BT loss.
    if (trainable && item.key() != "score.bias") {
      EXPECT_GT(item.value().grad().abs().sum().item<double>(), 0.0) << item.key();
    }
  }
}

}  // namespace
