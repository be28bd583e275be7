// The building blocks of the Qwen2-family decoder: RMSNorm, rotary embeddings, grouped-query
// self-attention with qkv bias, the SwiGLU MLP and the pre-norm decoder layer. Parameter
// names follow the HF Qwen2 layout (self_attn.q_proj, mlp.gate_proj, input_layernorm, ...).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "omnirm/core/config.h"
#include "omnirm/model/projection.h"
#include "omnirm/ops/attention.h"

namespace omnirm::model {

// y = x / sqrt(mean(x²) + eps) * weight, computed in fp32, returned in x's dtype.
class RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(int64_t size, double eps);
  at::Tensor forward(const at::Tensor& x);  // [..., size] → [..., size]

 private:
  at::Tensor weight_;
  double eps_;
};
TORCH_MODULE(RMSNorm);

// cos/sin tables for RoPE in the HF "rotate half" convention.
struct Rotary {
  at::Tensor cos;  // [N, head_dim] fp64 (cast to the compute type where applied)
  at::Tensor sin;  // [N, head_dim] fp64
};

// positions: [N] int64 → tables for those positions.
Rotary make_rotary(const at::Tensor& positions, int64_t head_dim, double theta);

// x: [N, H, head_dim] → x rotated by its position's angles, same shape and dtype.
at::Tensor apply_rotary(const at::Tensor& x, const Rotary& rotary);

class SelfAttentionImpl : public torch::nn::Module {
 public:
  explicit SelfAttentionImpl(const ModelConfig& config);
  // hidden: [N, D] → [N, D]
  at::Tensor forward(const at::Tensor& hidden, const Rotary& rotary,
                     const ops::AttentionLayout& layout, ops::AttentionBackend backend);

 private:
  int64_t num_heads_, num_kv_heads_, head_dim_;
  Projection q_proj_{nullptr}, k_proj_{nullptr}, v_proj_{nullptr}, o_proj_{nullptr};
};
TORCH_MODULE(SelfAttention);

class MlpImpl : public torch::nn::Module {
 public:
  explicit MlpImpl(const ModelConfig& config);
  at::Tensor forward(const at::Tensor& hidden);  // [N, D] → [N, D]: down(silu(gate) * up)

 private:
  Projection gate_proj_{nullptr}, up_proj_{nullptr}, down_proj_{nullptr};
};
TORCH_MODULE(Mlp);

class DecoderLayerImpl : public torch::nn::Module {
 public:
  explicit DecoderLayerImpl(const ModelConfig& config);
  // hidden: [N, D] → [N, D]
  at::Tensor forward(const at::Tensor& hidden, const Rotary& rotary,
                     const ops::AttentionLayout& layout, ops::AttentionBackend backend);

 private:
  RMSNorm input_layernorm_{nullptr}, post_attention_layernorm_{nullptr};
  SelfAttention self_attn_{nullptr};
  Mlp mlp_{nullptr};
};
TORCH_MODULE(DecoderLayer);

}  // namespace omnirm::model
