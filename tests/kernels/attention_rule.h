// What the pair-attention kernel tests share: rows built from segment runs, random problems,
// and FlashAttention's accuracy rule (ops/accuracy_rules.h) — a candidate's largest error, in
// the output and in each gradient, is at most twice that of a naive implementation run in the
// candidate's precision (dense masked scores, softmax and products in bf16 / fp16), both
// measured against the fp32 reference, plus 1e-5.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "omnirm/ops/accuracy_rules.h"
#include "omnirm/ops/attention.h"

namespace omnirm::testing {

// Rows given as runs of (segment code, tokens).
struct Rows {
  std::vector<int64_t> offsets = {0};
  std::vector<int8_t> segments;

  void add(const std::vector<std::pair<int8_t, int>>& runs);
  int64_t tokens() const { return static_cast<int64_t>(segments.size()); }
};

// Every row kind the kernels must handle, 1283 tokens, the longest row 630.
Rows mixed_rows();

// The rule's pieces live in ops (ops/accuracy_rules.h), where the kernels' self-test on first
// use applies them too.
using AttentionFn = ops::AttentionFn;
using Result = ops::AttentionResult;

// Runs `attention` on copies of q, k, v converted to `dtype` on `device`; the gradients are
// those of sum(out * grad_out).
inline Result run(const AttentionFn& attention, const at::Tensor& q, const at::Tensor& k,
                  const at::Tensor& v, const at::Tensor& grad_out, at::ScalarType dtype,
                  at::Device device) {
  return ops::run_attention(attention, q, k, v, grad_out, dtype, device);
}
using ops::naive_attention;

// Largest absolute difference, in double precision on the CPU.
inline double max_error(const at::Tensor& value, const at::Tensor& reference) {
  return ops::max_abs_error(value, reference);
}

// FlashAttention's rule for each of out, dq, dk, dv; returns the failures, one line each.
inline std::vector<std::string> flash_rule_failures(const Result& candidate, const Result& naive,
                                                    const Result& reference) {
  return ops::flash_rule(candidate, naive, reference).failures;
}

// Random inputs (fp32, CPU) for `rows` and their layout on `device`.
struct Problem {
  ops::AttentionLayout layout;
  at::Tensor q, k, v, grad_out;  // q, grad_out [N, Hkv * group, d]; k, v [N, Hkv, d]
};

Problem make_problem(const Rows& rows, int64_t kv_heads, int64_t group, int64_t head_dim,
                     at::Device device, uint64_t seed);

// The candidate, the naive same-precision attention and the fp32 reference on `device` for
// one problem; returns the rule's failures.
std::vector<std::string> check_flash_rule(const AttentionFn& candidate, const Problem& problem,
                                          at::ScalarType dtype, at::Device device);

}  // namespace omnirm::testing
