// Implementation of model/encoder_layer.h.
#include "omnirm/model/encoder_layer.h"

#include "omnirm/model/activation_checkpoint.h"

#include <ATen/ATen.h>

#include <cmath>

namespace omnirm::model {

EncoderLayerNames EncoderLayerNames::siglip() { return {"layer_norm1", "layer_norm2", "mlp"}; }
EncoderLayerNames EncoderLayerNames::whisper() {
  return {"self_attn_layer_norm", "final_layer_norm", ""};
}

EncoderAttentionImpl::EncoderAttentionImpl(const EncoderLayerOptions& o)
    : num_heads_(o.num_heads), head_dim_(o.hidden_size / o.num_heads) {
  TORCH_CHECK(o.hidden_size % o.num_heads == 0, "encoder: hidden_size ", o.hidden_size,
              " is not a multiple of num_heads ", o.num_heads);
  auto linear = [&](bool bias) {
    return torch::nn::Linear(torch::nn::LinearOptions(o.hidden_size, o.hidden_size).bias(bias));
  };
  q_proj_ = register_module("q_proj", linear(true));
  k_proj_ = register_module("k_proj", linear(o.key_bias));
  v_proj_ = register_module("v_proj", linear(true));
  out_proj_ = register_module("out_proj", linear(true));
}

at::Tensor EncoderAttentionImpl::forward(const at::Tensor& hidden, const at::Tensor& key_mask,
                                         const at::Tensor& attn_mask) {
  const int64_t b = hidden.size(0), l = hidden.size(1);
  auto heads = [&](const at::Tensor& x) {
    return x.view({b, l, num_heads_, head_dim_}).transpose(1, 2);  // [B, H, L, d]
  };
  std::optional<at::Tensor> mask;
  if (key_mask.defined()) mask = key_mask.view({b, 1, 1, l});
  if (attn_mask.defined()) {
    const at::Tensor rows = attn_mask.view({1, 1, l, l});
    mask = mask ? at::logical_and(*mask, rows) : rows;
  }
  at::Tensor out = at::scaled_dot_product_attention(heads(q_proj_->forward(hidden)),
                                                    heads(k_proj_->forward(hidden)),
                                                    heads(v_proj_->forward(hidden)), mask);
  return out_proj_->forward(out.transpose(1, 2).reshape({b, l, num_heads_ * head_dim_}));
}

EncoderLayerImpl::EncoderLayerImpl(const EncoderLayerOptions& o) : gelu_tanh_(o.gelu_tanh) {
  auto norm = [&] {
    return torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.hidden_size}).eps(o.layer_norm_eps));
  };
  norm1_ = register_module(o.names.norm_before_attention, norm());
  self_attn_ = register_module("self_attn", EncoderAttention(o));
  norm2_ = register_module(o.names.norm_before_mlp, norm());
  auto fc1 = torch::nn::Linear(o.hidden_size, o.intermediate_size);
  auto fc2 = torch::nn::Linear(o.intermediate_size, o.hidden_size);
  if (o.names.mlp_prefix.empty()) {
    fc1_ = register_module("fc1", fc1);
    fc2_ = register_module("fc2", fc2);
  } else {
    auto mlp = register_module(o.names.mlp_prefix, std::make_shared<torch::nn::Module>());
    fc1_ = mlp->register_module("fc1", fc1);
    fc2_ = mlp->register_module("fc2", fc2);
  }
}

at::Tensor EncoderLayerImpl::forward(const at::Tensor& hidden, const at::Tensor& key_mask,
                                     const at::Tensor& attn_mask) {
  at::Tensor h = hidden + self_attn_->forward(norm1_->forward(hidden), key_mask, attn_mask);
  return h +
         fc2_->forward(at::gelu(fc1_->forward(norm2_->forward(h)), gelu_tanh_ ? "tanh" : "none"));
}

at::Tensor run_encoder_layers(torch::nn::ModuleList& layers, at::Tensor hidden,
                              int64_t checkpoint_every, const at::Tensor& key_mask,
                              const at::Tensor& attn_mask) {
  for (size_t i = 0; i < layers->size(); ++i) {
    EncoderLayerImpl* layer = layers[i]->as<EncoderLayer>();
    const BlockFunction block = [layer, key_mask, attn_mask](const at::Tensor& h) {
      return layer->forward(h, key_mask, attn_mask);
    };
    hidden = run_block(block, hidden, checkpoint_block(int64_t(i), checkpoint_every),
                       any_trainable(*layer));
  }
  return hidden;
}

}  // namespace omnirm::model
