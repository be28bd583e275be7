// Implementation of model/reward_model.h.
#include "omnirm/model/reward_model.h"

#include <ATen/ATen.h>
#include <torch/nn/functional/dropout.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/normalization.h>

#include <memory>
#include <set>

#include "omnirm/model/activation_checkpoint.h"
#include "omnirm/model/media_splice.h"
#include "omnirm/ops/autocast.h"
#include "omnirm/ops/bt_loss.h"
#include "omnirm/ops/reward_head.h"

namespace omnirm::model {

BackboneImpl::BackboneImpl(const ModelConfig& config, int64_t vocab_size) : config_(config) {
  embed_tokens_ =
      register_module("embed_tokens", torch::nn::Embedding(vocab_size, config.hidden_size));
  layers_ = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < config.num_layers; ++i) layers_->push_back(DecoderLayer(config));
  norm_ = register_module("norm", RMSNorm(config.hidden_size, config.rms_norm_eps));
}

at::Tensor BackboneImpl::embed(const at::Tensor& tokens) { return embed_tokens_->forward(tokens); }

at::Tensor BackboneImpl::forward(const at::Tensor& tokens, const at::Tensor& positions,
                                 const ops::AttentionLayout& layout,
                                 ops::AttentionBackend backend) {
  return forward_embeds(embed(tokens), positions, layout, backend);
}

at::Tensor BackboneImpl::forward_embeds(const at::Tensor& embeds, const at::Tensor& positions,
                                        const ops::AttentionLayout& layout,
                                        ops::AttentionBackend backend) {
  TORCH_CHECK(embeds.dim() == 2 && embeds.size(1) == config_.hidden_size &&
                  embeds.size(0) == positions.size(0),
              "backbone: embeddings must be [N, ", config_.hidden_size,
              "] with N = ", positions.size(0), " positions, got ", embeds.sizes());
  const int64_t head_dim = config_.hidden_size / config_.num_heads;
  const Rotary rotary = make_rotary(positions, head_dim, config_.rope_theta);
  // A checkpointed block runs again in backward, after this function has returned: the
  // blocks share their own copies of the rotary tables and the layout.
  const auto shared_rotary = std::make_shared<const Rotary>(rotary);
  const auto shared_layout = std::make_shared<const ops::AttentionLayout>(layout);
  at::Tensor hidden = embeds;
  for (size_t i = 0; i < layers_->size(); ++i) {
    DecoderLayerImpl* layer = layers_[i]->as<DecoderLayer>();
    const BlockFunction block = [layer, shared_rotary, shared_layout,
                                 backend](const at::Tensor& h) {
      return layer->forward(h, *shared_rotary, *shared_layout, backend);
    };
    const bool checkpointed = checkpoint_block(int64_t(i), checkpoint_every_);
    const bool trainable = any_trainable(*layer);
    const auto run = [&](const at::Tensor& h) {
      return run_block(block, h, checkpointed, trainable);
    };
    hidden = block_hook_ ? run_hooked_block(*block_hook_, int64_t(i), hidden, run) : run(hidden);
  }
  return norm_->forward(hidden);
}

RewardModelImpl::RewardModelImpl(const ModelConfig& config, int64_t vocab_size)
    : config_(config), vocab_size_(vocab_size) {
  model_ = register_module("model", Backbone(config, vocab_size));
  score_ = register_module(
      "score",
      torch::nn::Linear(torch::nn::LinearOptions(config.hidden_size, 1).bias(config.head_bias)));
  // The encoder's towers become children of this module under their own names, after the
  // backbone and head (so a text-only config has exactly their parameters, in their order).
  media_ = MediaEncoder(config);
  for (const auto& tower : media_->named_children()) register_module(tower.key(), tower.value());
}

at::Tensor RewardModelImpl::score_hidden(const at::Tensor& hidden) {
  // The head and the rewards stay fp32 inside a mixed-precision forward.
  ops::AutocastScope fp32(hidden.device().type(), ops::Precision::fp32);
  at::Tensor h = hidden.to(score_->weight.scalar_type());  // fp32 unless the model is fp64
  if (config_.head_dropout > 0.0) {
    h = torch::nn::functional::dropout(h, torch::nn::functional::DropoutFuncOptions()
                                              .p(config_.head_dropout)
                                              .training(is_training()));
  }
  return score_->forward(h).squeeze(-1);
}

at::Tensor RewardModelImpl::hidden_states(const ModelInputs& inputs) {
  const ops::AttentionBackend backend =
      ops::resolve_attention_backend(config_.attention_backend, inputs.tokens.device().type());
  at::Tensor embeds = model_->embed(inputs.tokens);  // [N, D]
  const MediaFeatures features = media_->forward(inputs.media);
  embeds = splice_media(embeds, inputs.media, features);
  return model_->forward_embeds(embeds, inputs.positions, inputs.layout, backend);
}

RewardOutput RewardModelImpl::forward(const ModelInputs& inputs) {
  const at::Tensor hidden = hidden_states(inputs);
  // Only the last token of each response reaches the head.
  at::Tensor last = at::cat({inputs.chosen_last, inputs.rejected_last});
  at::Tensor rewards = score_hidden(hidden.index_select(0, last));
  const int64_t pairs = inputs.chosen_last.size(0);
  return RewardOutput{rewards.narrow(0, 0, pairs), rewards.narrow(0, pairs, pairs)};
}

RewardLoss RewardModelImpl::loss(const ModelInputs& inputs, double centering) {
  if (config_.head_dropout > 0.0 && is_training()) {
    const RewardOutput rewards = forward(inputs);
    ops::AutocastScope fp32(inputs.tokens.device().type(), ops::Precision::fp32);
    return {ops::bt_loss(rewards.chosen, rewards.rejected, inputs.margins, centering),
            rewards.chosen.detach(), rewards.rejected.detach()};
  }
  const ops::RewardHeadLoss out =
      ops::reward_head_loss(hidden_states(inputs), inputs.chosen_last, inputs.rejected_last,
                            score_->weight, score_->bias, inputs.margins, centering,
                            /*fused_required=*/config_.attention_backend == "cuda");
  return {out.loss, out.reward_chosen, out.reward_rejected};
}

void RewardModelImpl::set_activation_checkpointing(int64_t every) {
  model_->set_activation_checkpointing(every);
  media_->set_activation_checkpointing(every);
}

void initialize_weights(RewardModelImpl& model) {
  torch::NoGradGuard no_grad;
  const double std = model.config().init_std;
  // Norm layers are recognised by type, not name: the towers' norms include ln_q and ln_kv.
  std::set<const void*> norm_parameters;
  for (const auto& module : model.modules()) {
    if (module->as<RMSNormImpl>() == nullptr && module->as<torch::nn::LayerNormImpl>() == nullptr) {
      continue;
    }
    for (const at::Tensor& p : module->parameters()) {
      norm_parameters.insert(p.unsafeGetTensorImpl());
    }
  }
  for (auto& item : model.named_parameters()) {
    const std::string& name = item.key();
    at::Tensor& p = item.value();
    const bool is_bias = name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
    const bool in_norm = norm_parameters.count(p.unsafeGetTensorImpl()) != 0;
    if (in_norm && !is_bias) {
      p.fill_(1.0);
    } else if (is_bias) {
      p.zero_();
    } else {
      p.normal_(0.0, std);
    }
  }
}

}  // namespace omnirm::model
