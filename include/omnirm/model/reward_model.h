// The reward model: a Qwen2-family decoder backbone ("model.*") and a scalar value head
// ("score.*", fp32) read at the last token of each response. No LM head exists; the head
// never runs on every token.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include "omnirm/core/config.h"
#include "omnirm/model/layers.h"
#include "omnirm/ops/attention.h"

namespace omnirm::model {

// One packed batch on a device (built from a data::PairBatch).
struct ModelInputs {
  at::Tensor tokens;     // [N] int64
  at::Tensor positions;  // [N] int64
  ops::AttentionLayout layout;
  at::Tensor chosen_last;    // [B] int64: index in tokens of each last chosen token
  at::Tensor rejected_last;  // [B] int64
  at::Tensor margins;        // [B] fp32
};

struct RewardOutput {
  at::Tensor chosen;    // [B] fp32
  at::Tensor rejected;  // [B] fp32
};

class BackboneImpl : public torch::nn::Module {
 public:
  BackboneImpl(const ModelConfig& config, int64_t vocab_size);
  // tokens [N] int64, positions [N] int64 → final-norm hidden states [N, D]
  at::Tensor forward(const at::Tensor& tokens, const at::Tensor& positions,
                     const ops::AttentionLayout& layout, ops::AttentionBackend backend);

 private:
  ModelConfig config_;
  torch::nn::Embedding embed_tokens_{nullptr};
  torch::nn::ModuleList layers_{nullptr};
  RMSNorm norm_{nullptr};
};
TORCH_MODULE(Backbone);

class RewardModelImpl : public torch::nn::Module {
 public:
  RewardModelImpl(const ModelConfig& config, int64_t vocab_size);

  RewardOutput forward(const ModelInputs& inputs);
  // hidden [B, D] (any float dtype) → rewards [B] fp32 (dropout applies in training mode).
  at::Tensor score_hidden(const at::Tensor& hidden);

  const ModelConfig& config() const { return config_; }
  int64_t vocab_size() const { return vocab_size_; }

 private:
  ModelConfig config_;
  int64_t vocab_size_;
  Backbone model_{nullptr};
  torch::nn::Linear score_{nullptr};
};
TORCH_MODULE(RewardModel);

// Fills weights with N(0, init_std) and biases with zeros (norm weights stay 1), using the
// global torch generator: seed it first for a reproducible model.
void initialize_weights(RewardModelImpl& model);

}  // namespace omnirm::model
