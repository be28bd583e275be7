// Shared pieces of the pair-attention kernel tests (see attention_rule.h).
#include "kernels/attention_rule.h"

#include <torch/csrc/autograd/autograd.h>

#include <cmath>
#include <tuple>

namespace omnirm::testing {

void Rows::add(const std::vector<std::pair<int8_t, int>>& runs) {
  for (const auto& [code, count] : runs) {
    segments.insert(segments.end(), count, code);
  }
  offsets.push_back(static_cast<int64_t>(segments.size()));
}

Rows mixed_rows() {
  Rows rows;
  rows.add({{0, 37}, {1, 21}, {2, 45}});     // odd lengths
  rows.add({{0, 1}, {1, 5}, {2, 3}});        // one-token prompt
  rows.add({{0, 50}, {2, 30}});              // empty chosen response
  rows.add({{0, 20}, {1, 40}});              // empty rejected response (also the naive layout)
  rows.add({{0, 1}, {1, 1}, {2, 1}});        // one token each
  rows.add({{0, 130}, {1, 300}, {2, 200}});  // many tiles, whole chosen tiles to skip
  rows.add({{0, 301}});                      // plain causal
  rows.add({{0, 33}, {2, 64}});              // naive layout, prompt + rejected
  return rows;
}

Result run(const AttentionFn& attention, const at::Tensor& q, const at::Tensor& k,
           const at::Tensor& v, const at::Tensor& grad_out, at::ScalarType dtype,
           at::Device device) {
  const at::Tensor query = q.to(device, dtype).detach().requires_grad_(true);
  const at::Tensor key = k.to(device, dtype).detach().requires_grad_(true);
  const at::Tensor value = v.to(device, dtype).detach().requires_grad_(true);
  const at::Tensor out = attention(query, key, value);
  const std::vector<at::Tensor> grads =
      torch::autograd::grad({out}, {query, key, value}, {grad_out.to(device, dtype)});
  return {out.detach(), grads[0], grads[1], grads[2]};
}

at::Tensor naive_attention(const at::Tensor& query, const at::Tensor& key, const at::Tensor& value,
                           const ops::AttentionLayout& layout) {
  const int64_t rows = layout.rows;
  const int64_t lmax = layout.max_row_length;
  const int64_t groups = query.size(1) / key.size(1);
  const auto padded = [&](const at::Tensor& x) {  // [N, H, d] → [rows, H, Lmax, d]
    const at::Tensor with_zero = at::cat({x, at::zeros({1, x.size(1), x.size(2)}, x.options())});
    return with_zero.index_select(0, layout.pad_gather)
        .view({rows, lmax, x.size(1), x.size(2)})
        .transpose(1, 2);
  };
  const at::Tensor q = padded(query);
  const at::Tensor k = padded(key).repeat_interleave(groups, 1);
  const at::Tensor v = padded(value).repeat_interleave(groups, 1);
  const double scale = 1.0 / std::sqrt(static_cast<double>(query.size(2)));
  at::Tensor scores = at::matmul(q, k.transpose(-2, -1)) * scale;
  scores = scores.masked_fill(layout.allowed.logical_not(), -INFINITY);
  const at::Tensor out = at::matmul(at::softmax(scores, -1), v);
  return out.transpose(1, 2)
      .reshape({rows * lmax, query.size(1), query.size(2)})
      .index_select(0, layout.unpad_index);
}

double max_error(const at::Tensor& value, const at::Tensor& reference) {
  return (value.to(at::kCPU, at::kDouble) - reference.to(at::kCPU, at::kDouble))
      .abs()
      .max()
      .item<double>();
}

std::vector<std::string> flash_rule_failures(const Result& candidate, const Result& naive,
                                             const Result& reference) {
  std::vector<std::string> failures;
  const std::vector<std::tuple<std::string, at::Tensor, at::Tensor, at::Tensor>> checks = {
      {"out", candidate.out, naive.out, reference.out},
      {"dq", candidate.dq, naive.dq, reference.dq},
      {"dk", candidate.dk, naive.dk, reference.dk},
      {"dv", candidate.dv, naive.dv, reference.dv}};
  for (const auto& [name, value, baseline, truth] : checks) {
    if (value.sizes() != truth.sizes()) {
      failures.push_back(name + ": shape differs from the reference");
      continue;
    }
    if (!at::isfinite(value).all().item<bool>()) {
      failures.push_back(name + ": non-finite values");
      continue;
    }
    const double error = max_error(value, truth);
    const double baseline_error = max_error(baseline, truth);
    if (!(error <= 2.0 * baseline_error + 1e-5)) {
      failures.push_back(name + ": max error " + std::to_string(error) + " > 2 x naive " +
                         std::to_string(baseline_error) + " + 1e-5");
    }
  }
  return failures;
}

Problem make_problem(const Rows& rows, int64_t kv_heads, int64_t group, int64_t head_dim,
                     at::Device device, uint64_t seed) {
  at::manual_seed(seed);
  Problem problem;
  problem.layout = ops::make_attention_layout(rows.offsets, rows.segments, device);
  const int64_t n = rows.tokens();
  problem.q = at::randn({n, kv_heads * group, head_dim});
  problem.k = at::randn({n, kv_heads, head_dim});
  problem.v = at::randn({n, kv_heads, head_dim});
  problem.grad_out = at::randn({n, kv_heads * group, head_dim});
  return problem;
}

std::vector<std::string> check_flash_rule(const AttentionFn& candidate, const Problem& problem,
                                          at::ScalarType dtype, at::Device device) {
  const ops::AttentionLayout& layout = problem.layout;
  const auto reference = [&](const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
    return ops::attention_reference(q, k, v, layout);
  };
  const auto naive = [&](const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
    return naive_attention(q, k, v, layout);
  };
  const Result truth =
      run(reference, problem.q, problem.k, problem.v, problem.grad_out, at::kFloat, device);
  const Result baseline =
      run(naive, problem.q, problem.k, problem.v, problem.grad_out, dtype, device);
  const Result result =
      run(candidate, problem.q, problem.k, problem.v, problem.grad_out, dtype, device);
  std::vector<std::string> failures;
  if (result.out.scalar_type() != dtype || result.dk.scalar_type() != dtype) {
    failures.push_back("the candidate's output or gradients are not in the input dtype");
  }
  for (std::string& failure : flash_rule_failures(result, baseline, truth)) {
    failures.push_back(std::move(failure));
  }
  return failures;
}

}  // namespace omnirm::testing
