// The reward model: a Qwen2-family decoder backbone ("model.*") and a scalar value head
// ("score.*", fp32) read at the last token of each response. No LM head exists; the head
// never runs on every token. Media towers, where the config has them ("vision_tower.*",
// "resampler.*", "audio_tower.*", "point_tower.*"), turn the batch's media into feature rows
// that replace the placeholder token embeddings at their slots before the backbone layers.
// A text-only config has exactly the backbone and head parameters.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include <memory>

#include "omnirm/core/config.h"
#include "omnirm/model/block_hook.h"
#include "omnirm/model/layers.h"
#include "omnirm/model/media_encoder.h"
#include "omnirm/model/media_inputs.h"
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
  MediaInputs media;         // slots index rows of tokens; empty for text-only batches
};

struct RewardOutput {
  at::Tensor chosen;    // [B] fp32
  at::Tensor rejected;  // [B] fp32
};

// A batch's training loss and the rewards behind it.
struct RewardLoss {
  at::Tensor loss;      // 0-dim fp32, differentiable
  at::Tensor chosen;    // [B] fp32, detached
  at::Tensor rejected;  // [B] fp32, detached
};

class BackboneImpl : public torch::nn::Module {
 public:
  BackboneImpl(const ModelConfig& config, int64_t vocab_size);
  // tokens [N] int64 → token embeddings [N, D]
  at::Tensor embed(const at::Tensor& tokens);
  // embeds [N, D], positions [N] int64 → final-norm hidden states [N, D]
  at::Tensor forward_embeds(const at::Tensor& embeds, const at::Tensor& positions,
                            const ops::AttentionLayout& layout, ops::AttentionBackend backend);
  // tokens [N] int64, positions [N] int64 → forward_embeds(embed(tokens), ...) [N, D]
  at::Tensor forward(const at::Tensor& tokens, const at::Tensor& positions,
                     const ops::AttentionLayout& layout, ops::AttentionBackend backend);
  // Checkpoints decoder layers 0, k, 2k, ... (k = `every`; 0: none).
  void set_activation_checkpointing(int64_t every) { checkpoint_every_ = every; }
  // Decoder layer i runs through hook->*(i) (model/block_hook.h); null: no hook.
  void set_block_hook(std::shared_ptr<BlockHook> hook) { block_hook_ = std::move(hook); }
  int64_t num_blocks() const { return static_cast<int64_t>(layers_->size()); }

 private:
  ModelConfig config_;
  int64_t checkpoint_every_ = 0;
  std::shared_ptr<BlockHook> block_hook_;
  torch::nn::Embedding embed_tokens_{nullptr};
  torch::nn::ModuleList layers_{nullptr};
  RMSNorm norm_{nullptr};
};
TORCH_MODULE(Backbone);

class RewardModelImpl : public torch::nn::Module {
 public:
  RewardModelImpl(const ModelConfig& config, int64_t vocab_size);

  // Token embeddings → media features spliced in at their slots → backbone → head at the
  // last token of each response.
  RewardOutput forward(const ModelInputs& inputs);
  // The Bradley–Terry loss of the batch (ops::bt_loss of forward's rewards with the batch's
  // margins): the head and the loss in one fused op on CUDA (ops/reward_head.h), unless head
  // dropout is active, which only the composed path applies.
  RewardLoss loss(const ModelInputs& inputs, double centering);
  // hidden [B, D] (any float dtype) → rewards [B] fp32 (dropout applies in training mode).
  at::Tensor score_hidden(const at::Tensor& hidden);

  const ModelConfig& config() const { return config_; }
  int64_t vocab_size() const { return vocab_size_; }
  BackboneImpl& backbone() { return *model_; }
  // The towers (registered here at top level, not under the encoder's name) and the count
  // of items they encoded.
  MediaEncoderImpl& media_encoder() { return *media_; }
  // Activation checkpointing of every `every`-th block of the backbone and of the towers
  // (train.activation_checkpointing; 0: none).
  void set_activation_checkpointing(int64_t every);

 private:
  // Token embeddings, media spliced in, backbone: final-norm hidden states [N, D].
  at::Tensor hidden_states(const ModelInputs& inputs);

  ModelConfig config_;
  int64_t vocab_size_;
  Backbone model_{nullptr};
  torch::nn::Linear score_{nullptr};
  MediaEncoder media_{nullptr};
};
TORCH_MODULE(RewardModel);

// Fills weights with N(0, init_std) and biases with zeros, and sets norm layers (RMSNorm and
// the towers' LayerNorms) to weight 1, bias 0, using the global torch generator: seed it
// first for a reproducible model. Parameters are visited backbone, head, then towers, so
// from the same generator state the backbone and head draw the same values whichever towers
// a config adds.
void initialize_weights(RewardModelImpl& model);

}  // namespace omnirm::model
