// Implementation of model/layers.h.
#include "omnirm/model/layers.h"

#include <ATen/ATen.h>
#include <torch/nn/functional/activation.h>

namespace omnirm::model {

RMSNormImpl::RMSNormImpl(int64_t size, double eps) : eps_(eps) {
  weight_ = register_parameter("weight", at::ones({size}));
}

namespace {

// Norms and rotations run in fp32 for fp32/bf16/fp16 inputs, in fp64 for fp64 inputs.
at::ScalarType compute_type(const at::Tensor& x) {
  return x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
}

}  // namespace

at::Tensor RMSNormImpl::forward(const at::Tensor& x) {
  at::Tensor x32 = x.to(compute_type(x));
  at::Tensor normed = x32 * at::rsqrt(x32.pow(2).mean(-1, /*keepdim=*/true) + eps_);
  return (weight_.to(x32.scalar_type()) * normed).to(x.scalar_type());
}

Rotary make_rotary(const at::Tensor& positions, int64_t head_dim, double theta) {
  at::Tensor exponents =
      at::arange(0, head_dim, 2, positions.options().dtype(at::kDouble)) / double(head_dim);
  at::Tensor inv_freq = 1.0 / at::pow(theta, exponents);
  at::Tensor angles = positions.to(at::kDouble).unsqueeze(1) * inv_freq.unsqueeze(0);  // [N, d/2]
  at::Tensor both = at::cat({angles, angles}, -1);                                     // [N, d]
  return Rotary{both.cos(), both.sin()};
}

at::Tensor apply_rotary(const at::Tensor& x, const Rotary& rotary) {
  const int64_t half = x.size(-1) / 2;
  at::Tensor x32 = x.to(compute_type(x));
  at::Tensor rotated = at::cat({-x32.narrow(-1, half, half), x32.narrow(-1, 0, half)}, -1);
  at::Tensor cos = rotary.cos.to(x32.scalar_type()).unsqueeze(1);  // [N, 1, d]
  at::Tensor sin = rotary.sin.to(x32.scalar_type()).unsqueeze(1);
  return (x32 * cos + rotated * sin).to(x.scalar_type());
}

SelfAttentionImpl::SelfAttentionImpl(const ModelConfig& config)
    : num_heads_(config.num_heads),
      num_kv_heads_(config.num_kv_heads),
      head_dim_(config.hidden_size / config.num_heads) {
  const int64_t d = config.hidden_size;
  auto projection = [&](int64_t out, bool bias) { return Projection(d, out, bias); };
  q_proj_ = register_module("q_proj", projection(num_heads_ * head_dim_, config.qkv_bias));
  k_proj_ = register_module("k_proj", projection(num_kv_heads_ * head_dim_, config.qkv_bias));
  v_proj_ = register_module("v_proj", projection(num_kv_heads_ * head_dim_, config.qkv_bias));
  o_proj_ = register_module("o_proj", Projection(num_heads_ * head_dim_, d, false));
}

at::Tensor SelfAttentionImpl::forward(const at::Tensor& hidden, const Rotary& rotary,
                                      const ops::AttentionLayout& layout,
                                      ops::AttentionBackend backend) {
  const int64_t n = hidden.size(0);
  at::Tensor q = q_proj_->forward(hidden).view({n, num_heads_, head_dim_});
  at::Tensor k = k_proj_->forward(hidden).view({n, num_kv_heads_, head_dim_});
  at::Tensor v = v_proj_->forward(hidden).view({n, num_kv_heads_, head_dim_});
  at::Tensor out =
      ops::pair_attention(apply_rotary(q, rotary), apply_rotary(k, rotary), v, layout, backend);
  return o_proj_->forward(out.reshape({n, num_heads_ * head_dim_}));
}

MlpImpl::MlpImpl(const ModelConfig& config) {
  auto linear = [](int64_t in, int64_t out) { return Projection(in, out, false); };
  gate_proj_ = register_module("gate_proj", linear(config.hidden_size, config.intermediate_size));
  up_proj_ = register_module("up_proj", linear(config.hidden_size, config.intermediate_size));
  down_proj_ = register_module("down_proj", linear(config.intermediate_size, config.hidden_size));
}

at::Tensor MlpImpl::forward(const at::Tensor& hidden) {
  return down_proj_->forward(at::silu(gate_proj_->forward(hidden)) * up_proj_->forward(hidden));
}

DecoderLayerImpl::DecoderLayerImpl(const ModelConfig& config) {
  input_layernorm_ =
      register_module("input_layernorm", RMSNorm(config.hidden_size, config.rms_norm_eps));
  self_attn_ = register_module("self_attn", SelfAttention(config));
  post_attention_layernorm_ =
      register_module("post_attention_layernorm", RMSNorm(config.hidden_size, config.rms_norm_eps));
  mlp_ = register_module("mlp", Mlp(config));
}

at::Tensor DecoderLayerImpl::forward(const at::Tensor& hidden, const Rotary& rotary,
                                     const ops::AttentionLayout& layout,
                                     ops::AttentionBackend backend) {
  at::Tensor h =
      hidden + self_attn_->forward(input_layernorm_->forward(hidden), rotary, layout, backend);
  return h + mlp_->forward(post_attention_layernorm_->forward(h));
}

}  // namespace omnirm::model
