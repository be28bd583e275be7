// Implementation of emulated_kernels.h.
#include "kernels/emulated_kernels.h"

#ifdef OMNIRM_KERNEL_EMULATION

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>

#include "emulated_bt_head_loss.h"
#include "emulated_pair_attention.h"
#include "omnirm/ops/kernel_self_test.h"
#include "pair_attention_tiles.h"

namespace omnirm::testing {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

PairAttentionDtype attention_dtype(at::ScalarType dtype) {
  return dtype == at::kBFloat16 ? PairAttentionDtype::kBFloat16 : PairAttentionDtype::kFloat16;
}

// The sizes and inputs of one call: q [N, Hq, d], k and v [N, Hkv, d] contiguous on the CPU,
// row_offsets int64 [rows + 1], segments int8 [N]; `summary` receives the scratch it points to.
PairAttentionParams attention_params(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                     const at::Tensor& row_offsets, const at::Tensor& segments,
                                     int64_t max_row_length, at::Tensor& summary) {
  PairAttentionParams params;
  params.num_tokens = q.size(0);
  params.num_rows = static_cast<int32_t>(row_offsets.numel() - 1);
  params.max_row_length = static_cast<int32_t>(max_row_length);
  params.num_heads = static_cast<int32_t>(q.size(1));
  params.num_kv_heads = static_cast<int32_t>(k.size(1));
  params.head_dim = static_cast<int32_t>(q.size(2));
  params.softmax_scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(q.size(2))));
  params.dtype = attention_dtype(q.scalar_type());
  summary = at::empty({params.num_rows * pair_attention::summary_tiles_per_row(max_row_length)},
                      at::kByte);
  params.row_offsets = row_offsets.data_ptr<int64_t>();
  params.segments = segments.data_ptr<int8_t>();
  params.tile_summary = summary.data_ptr<uint8_t>();
  params.query = q.data_ptr();
  params.key = k.data_ptr();
  params.value = v.data_ptr();
  return params;
}

simt::LaunchOptions options_from(const AutogradContext& ctx) {
  simt::LaunchOptions options;
  options.schedule_seed = static_cast<uint64_t>(ctx.saved_data.at("seed").toInt());
  options.copy_timing = ctx.saved_data.at("copy_at_issue").toBool() ? simt::CopyTiming::kAtIssue
                                                                    : simt::CopyTiming::kAtWait;
  return options;
}

// The emulated kernels as an autograd function, like the CUDA op: forward keeps O and the
// log-sum-exp for backward.
class EmulatedPairAttention : public torch::autograd::Function<EmulatedPairAttention> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& query, const at::Tensor& key,
                            const at::Tensor& value, const at::Tensor& row_offsets,
                            const at::Tensor& segments, int64_t max_row_length, int64_t seed,
                            bool copy_at_issue) {
    ctx->saved_data["max_row_length"] = max_row_length;
    ctx->saved_data["seed"] = seed;
    ctx->saved_data["copy_at_issue"] = copy_at_issue;
    const at::Tensor q = query.contiguous();
    const at::Tensor k = key.contiguous();
    const at::Tensor v = value.contiguous();
    const at::Tensor offsets = row_offsets.contiguous();
    const at::Tensor codes = segments.contiguous();
    at::Tensor summary;
    PairAttentionParams params = attention_params(q, k, v, offsets, codes, max_row_length, summary);
    const at::Tensor out = at::empty_like(q);
    const at::Tensor lse = at::empty({q.size(1), q.size(0)}, at::kFloat);
    params.output = out.data_ptr();
    params.logsumexp = lse.data_ptr<float>();
    emulated_pair_attention_forward(params, options_from(*ctx));
    ctx->save_for_backward({q, k, v, out, lse, offsets, codes});
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& q = saved[0];
    const at::Tensor& k = saved[1];
    const at::Tensor& v = saved[2];
    at::Tensor summary;
    PairAttentionParams params = attention_params(
        q, k, v, saved[5], saved[6], ctx->saved_data["max_row_length"].toInt(), summary);
    const at::Tensor grad_out = grads[0].to(q.scalar_type()).contiguous();
    const at::Tensor dot = at::empty({q.size(1), q.size(0)}, at::kFloat);
    const at::Tensor accum = at::empty(q.sizes(), at::kFloat);
    const at::Tensor dq = at::empty_like(q);
    const at::Tensor dk = at::empty_like(k);
    const at::Tensor dv = at::empty_like(v);
    params.output = saved[3].data_ptr();
    params.logsumexp = saved[4].data_ptr<float>();
    params.grad_output = grad_out.data_ptr();
    params.grad_output_dot = dot.data_ptr<float>();
    params.grad_query_accum = accum.data_ptr<float>();
    params.grad_query = dq.data_ptr();
    params.grad_key = dk.data_ptr();
    params.grad_value = dv.data_ptr();
    emulated_pair_attention_backward(params, options_from(*ctx));
    return {dq, dk, dv, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

BtHeadLossDtype head_loss_dtype(at::ScalarType dtype) {
  return dtype == at::kBFloat16 ? BtHeadLossDtype::kBFloat16
         : dtype == at::kHalf   ? BtHeadLossDtype::kFloat16
                                : BtHeadLossDtype::kFloat32;
}

// hidden [N, D], chosen / rejected index [B] int64, head weight [D] fp32, head bias [1] fp32
// (undefined: none), margin [B] fp32 (undefined: zeros), all contiguous on the CPU.
BtHeadLossParams head_loss_params(const at::Tensor& hidden, const at::Tensor& chosen_index,
                                  const at::Tensor& rejected_index, const at::Tensor& weight,
                                  const at::Tensor& bias, const at::Tensor& margin,
                                  double centering) {
  BtHeadLossParams params;
  params.hidden = hidden.data_ptr();
  params.hidden_dtype = head_loss_dtype(hidden.scalar_type());
  params.num_tokens = hidden.size(0);
  params.hidden_size = hidden.size(1);
  params.chosen_index = chosen_index.data_ptr<int64_t>();
  params.rejected_index = rejected_index.data_ptr<int64_t>();
  params.num_pairs = chosen_index.size(0);
  params.head_weight = weight.data_ptr<float>();
  params.head_bias = bias.defined() ? bias.data_ptr<float>() : nullptr;
  params.margin = margin.defined() ? margin.data_ptr<float>() : nullptr;
  params.centering = static_cast<float>(centering);
  return params;
}

// The fused head + loss kernels as an autograd function; outputs loss, reward_chosen,
// reward_rejected (the rewards without gradient).
class EmulatedBtHeadLoss : public torch::autograd::Function<EmulatedBtHeadLoss> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& hidden,
                               const at::Tensor& chosen_index, const at::Tensor& rejected_index,
                               const at::Tensor& head_weight, const at::Tensor& head_bias,
                               const at::Tensor& margin, double centering) {
    const at::Tensor h = hidden.contiguous();
    const at::Tensor chosen = chosen_index.contiguous();
    const at::Tensor rejected = rejected_index.contiguous();
    const at::Tensor weight = head_weight.reshape({-1}).contiguous();
    const at::Tensor bias = head_bias.defined() ? head_bias.contiguous() : at::Tensor();
    const at::Tensor margins = margin.defined() ? margin.contiguous() : at::Tensor();
    BtHeadLossParams params =
        head_loss_params(h, chosen, rejected, weight, bias, margins, centering);
    const int64_t pairs = chosen.size(0);
    const at::Tensor loss = at::zeros({}, at::kFloat);
    const at::Tensor reward_chosen = at::empty({pairs}, at::kFloat);
    const at::Tensor reward_rejected = at::empty({pairs}, at::kFloat);
    params.loss = loss.data_ptr<float>();
    params.reward_chosen = reward_chosen.data_ptr<float>();
    params.reward_rejected = reward_rejected.data_ptr<float>();
    emulated_bt_head_loss_forward(params, simt::LaunchOptions{});
    ctx->saved_data["centering"] = centering;
    ctx->saved_data["has_bias"] = bias.defined();
    ctx->saved_data["has_margin"] = margins.defined();
    ctx->saved_data["weight_shape"] = head_weight.sizes().vec();
    ctx->save_for_backward({h, chosen, rejected, weight, bias.defined() ? bias : at::zeros({1}),
                            margins.defined() ? margins : at::zeros({pairs}), reward_chosen,
                            reward_rejected});
    ctx->mark_non_differentiable({reward_chosen, reward_rejected});
    return {loss, reward_chosen, reward_rejected};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& h = saved[0];
    const bool has_bias = ctx->saved_data["has_bias"].toBool();
    const bool has_margin = ctx->saved_data["has_margin"].toBool();
    BtHeadLossParams params = head_loss_params(
        h, saved[1], saved[2], saved[3], has_bias ? saved[4] : at::Tensor(),
        has_margin ? saved[5] : at::Tensor(), ctx->saved_data["centering"].toDouble());
    const int64_t pairs = saved[1].size(0);
    at::Tensor reward_chosen = saved[6].clone();
    at::Tensor reward_rejected = saved[7].clone();
    const at::Tensor grad_loss =
        grads[0].defined() ? grads[0].to(at::kFloat).reshape({1}) : at::zeros({1}, at::kFloat);
    const at::Tensor grad_chosen = at::empty({pairs}, at::kFloat);
    const at::Tensor grad_rejected = at::empty({pairs}, at::kFloat);
    const at::Tensor grad_bias = at::empty({1}, at::kFloat);
    const at::Tensor grad_weight = at::empty({h.size(1)}, at::kFloat);
    const at::Tensor grad_hidden = at::zeros(h.sizes(), h.options());
    params.reward_chosen = reward_chosen.data_ptr<float>();
    params.reward_rejected = reward_rejected.data_ptr<float>();
    params.grad_loss = grad_loss.data_ptr<float>();
    params.grad_reward_chosen = grad_chosen.data_ptr<float>();
    params.grad_reward_rejected = grad_rejected.data_ptr<float>();
    params.grad_bias = grad_bias.data_ptr<float>();
    params.grad_weight = grad_weight.data_ptr<float>();
    params.grad_hidden = grad_hidden.data_ptr();
    emulated_bt_head_loss_backward(params, simt::LaunchOptions{});
    const std::vector<int64_t> weight_shape = ctx->saved_data["weight_shape"].toIntVector();
    return {grad_hidden,
            at::Tensor(),
            at::Tensor(),
            grad_weight.reshape(weight_shape),
            has_bias ? grad_bias : at::Tensor(),
            at::Tensor(),
            at::Tensor()};
  }
};

bool attention_inputs_served(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  const at::ScalarType dtype = q.scalar_type();
  return q.device().is_cpu() && (dtype == at::kBFloat16 || dtype == at::kHalf) &&
         k.scalar_type() == dtype && v.scalar_type() == dtype && q.dim() == 3 &&
         (q.size(2) == 64 || q.size(2) == 128) && k.size(1) > 0 && q.size(1) % k.size(1) == 0;
}

}  // namespace

at::Tensor emulated_pair_attention(const at::Tensor& query, const at::Tensor& key,
                                   const at::Tensor& value, const at::Tensor& row_offsets,
                                   const at::Tensor& segments, int64_t max_row_length,
                                   uint64_t seed, bool copy_at_issue) {
  return EmulatedPairAttention::apply(query, key, value, row_offsets, segments, max_row_length,
                                      static_cast<int64_t>(seed), copy_at_issue);
}

ops::RewardHeadLoss emulated_bt_head_loss(const at::Tensor& hidden, const at::Tensor& chosen_index,
                                          const at::Tensor& rejected_index,
                                          const at::Tensor& head_weight,
                                          const at::Tensor& head_bias, const at::Tensor& margin,
                                          double centering) {
  const variable_list out = EmulatedBtHeadLoss::apply(hidden, chosen_index, rejected_index,
                                                      head_weight, head_bias, margin, centering);
  return {out[0], out[1], out[2]};
}

ops::FusedAttentionKernel emulated_attention_kernel(KernelFault fault) {
  ops::FusedAttentionKernel kernel;
  kernel.name = fault == KernelFault::none ? "emulated pair-attention kernels"
                                           : "broken emulated pair-attention kernels";
  kernel.serves = "CPU bf16 or fp16 inputs with head size 64 or 128";
  kernel.supports = attention_inputs_served;
  kernel.run = [fault](const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                       const at::Tensor& row_offsets, const at::Tensor& segments,
                       int64_t max_row_length) {
    const at::Tensor codes =
        fault == KernelFault::ignore_segments ? at::zeros_like(segments) : segments;
    return emulated_pair_attention(q, k, v, row_offsets, codes, max_row_length);
  };
  return kernel;
}

ops::FusedHeadLossKernel emulated_head_loss_kernel(KernelFault fault) {
  ops::FusedHeadLossKernel kernel;
  kernel.name = fault == KernelFault::none ? "emulated value head + BT loss kernel"
                                           : "broken emulated value head + BT loss kernel";
  kernel.serves = "CPU fp32, bf16 or fp16 hidden states with an fp32 head";
  kernel.supports = [](const at::Tensor& hidden, const at::Tensor& head_weight) {
    const at::ScalarType dtype = hidden.scalar_type();
    return hidden.device().is_cpu() && head_weight.scalar_type() == at::kFloat &&
           (dtype == at::kFloat || dtype == at::kBFloat16 || dtype == at::kHalf);
  };
  kernel.run = [fault](const at::Tensor& hidden, const at::Tensor& chosen_index,
                       const at::Tensor& rejected_index, const at::Tensor& head_weight,
                       const at::Tensor& head_bias, const at::Tensor& margin, double centering) {
    const at::Tensor margins = fault == KernelFault::ignore_margin ? at::Tensor() : margin;
    return emulated_bt_head_loss(hidden, chosen_index, rejected_index, head_weight, head_bias,
                                 margins, centering);
  };
  return kernel;
}

InstalledCpuKernels::InstalledCpuKernels(KernelFault attention_fault, KernelFault head_loss_fault) {
  ops::install_fused_attention_kernel(c10::DeviceType::CPU,
                                      emulated_attention_kernel(attention_fault));
  ops::install_fused_head_loss_kernel(c10::DeviceType::CPU,
                                      emulated_head_loss_kernel(head_loss_fault));
}

InstalledCpuKernels::~InstalledCpuKernels() {
  ops::install_fused_attention_kernel(c10::DeviceType::CPU, std::nullopt);
  ops::install_fused_head_loss_kernel(c10::DeviceType::CPU, std::nullopt);
}

}  // namespace omnirm::testing

#endif  // OMNIRM_KERNEL_EMULATION
