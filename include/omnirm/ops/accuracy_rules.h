// The accuracy rules a fused kernel is held to, shared by the kernel self-tests that run on
// first use (ops/kernel_self_test.h) and by the kernel test suite.
//
// Pair attention (FlashAttention's rule): for the output and each input gradient, the
// candidate's largest error against the fp32 reference is at most twice that of a naive
// implementation run in the candidate's precision (dense masked scores, softmax and products
// rounded to bf16 / fp16), plus 1e-5.
//
// Value head + Bradley–Terry loss: against the fp64 composition, fp32 hidden states within
// 1e-4 of the reference's largest magnitude (+1e-6); bf16 / fp16 hidden states within twice
// the error of the plain composition run in that precision, plus half a unit of that
// precision at the reference's scale (where the plain ops overflow, one unit stands in for
// their error).
#pragma once

#include <ATen/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "omnirm/ops/attention.h"

namespace omnirm::ops {

// The outcome of one rule: a line per failed tensor, and every tensor's figures.
struct RuleCheck {
  std::vector<std::string> failures;  // empty: the candidate meets the rule
  std::string figures;                // "out 0.0076 (allowed 0.0102), dq ..."
  bool passed() const { return failures.empty(); }
};

// Largest absolute difference, in double precision on the CPU.
double max_abs_error(const at::Tensor& value, const at::Tensor& reference);

// ---- pair attention ----

// (query [N, Hq, d], key [N, Hkv, d], value [N, Hkv, d]) → output [N, Hq, d].
using AttentionFn =
    std::function<at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&)>;

// Output and input gradients of one implementation for one problem.
struct AttentionResult {
  at::Tensor out;  // [N, Hq, d]
  at::Tensor dq;   // [N, Hq, d]
  at::Tensor dk;   // [N, Hkv, d]
  at::Tensor dv;   // [N, Hkv, d]
};

// Runs `attention` on copies of q, k, v converted to `dtype` on `device`, with gradients of
// sum(out * grad_out). q, grad_out [N, Hq, d]; k, v [N, Hkv, d]; any float dtype and device.
AttentionResult run_attention(const AttentionFn& attention, const at::Tensor& q,
                              const at::Tensor& k, const at::Tensor& v, const at::Tensor& grad_out,
                              at::ScalarType dtype, at::Device device);

// Dense masked attention in the inputs' own precision: every intermediate (scores, softmax,
// products) is rounded to that dtype, as a plain implementation would compute it.
// query [N, Hq, d], key and value [N, Hkv, d] → [N, Hq, d].
at::Tensor naive_attention(const at::Tensor& query, const at::Tensor& key, const at::Tensor& value,
                           const AttentionLayout& layout);

// FlashAttention's rule for each of out, dq, dk, dv of `candidate`, against `reference` (fp32)
// with `naive` (the naive attention in the candidate's dtype) as the baseline.
RuleCheck flash_rule(const AttentionResult& candidate, const AttentionResult& naive,
                     const AttentionResult& reference);

// The whole check for one problem: runs the fp32 reference, the naive attention in `dtype` and
// the candidate in `dtype`, all on `device` over `layout` (on `device` too). q, grad_out
// [N, Hq, d] and k, v [N, Hkv, d] fp32. A candidate whose output or gradients come back in
// another dtype fails.
RuleCheck check_attention_rule(const AttentionFn& candidate, const AttentionLayout& layout,
                               const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                               const at::Tensor& grad_out, at::ScalarType dtype, at::Device device);

// ---- value head + Bradley–Terry loss ----

// One problem, as CPU tensors.
struct HeadLossProblem {
  at::Tensor hidden;          // [N, D] in the dtype under test
  at::Tensor chosen_index;    // [B] int64, rows of hidden
  at::Tensor rejected_index;  // [B] int64
  at::Tensor head_weight;     // [1, D] fp32
  at::Tensor head_bias;       // [1] fp32
  at::Tensor margin;          // [B] fp32
  double centering = 0.0;
};

// Everything compared, as either implementation returns it.
struct HeadLossResult {
  at::Tensor loss;             // 0-dim
  at::Tensor reward_chosen;    // [B]
  at::Tensor reward_rejected;  // [B]
  at::Tensor grad_hidden;      // [N, D]
  at::Tensor grad_weight;      // [1, D]
  at::Tensor grad_bias;        // [1]
};

// The head and loss in plain ATen ops with every floating tensor in `compute` on `device`,
// gradients by autograd (dloss = 1).
HeadLossResult plain_head_loss(const HeadLossProblem& problem, at::ScalarType compute,
                               at::Device device);

// The rule for every output of `candidate` on `problem`: the fp64 reference is computed on the
// CPU, the low-precision baseline (bf16 / fp16 hidden states only) on `baseline_device`.
RuleCheck head_loss_rule(const HeadLossResult& candidate, const HeadLossProblem& problem,
                         at::Device baseline_device);

}  // namespace omnirm::ops
