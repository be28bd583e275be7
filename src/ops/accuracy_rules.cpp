// Implementation of ops/accuracy_rules.h.
#include "omnirm/ops/accuracy_rules.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/csrc/autograd/autograd.h>

#include <cmath>
#include <limits>
#include <tuple>

namespace omnirm::ops {

namespace {

// One tensor's verdict: appends to `check` and returns nothing; `allowed` is the bound on the
// error against the reference.
void judge(RuleCheck& check, const std::string& name, const at::Tensor& value,
           const at::Tensor& reference, double allowed) {
  if (!value.defined()) {
    check.failures.push_back(name + ": missing");
    return;
  }
  if (value.sizes() != reference.sizes()) {
    check.failures.push_back(name + ": shape differs from the reference");
    return;
  }
  if (!at::isfinite(value.to(at::kCPU, at::kDouble)).all().item<bool>()) {
    check.failures.push_back(name + ": non-finite values");
    check.figures += fmt::format("{}{} non-finite", check.figures.empty() ? "" : ", ", name);
    return;
  }
  const double error = max_abs_error(value, reference);
  check.figures += fmt::format("{}{} {:.3g} (allowed {:.3g})", check.figures.empty() ? "" : ", ",
                               name, error, allowed);
  if (!(error <= allowed)) {
    check.failures.push_back(
        fmt::format("{}: max error {:.6g} > allowed {:.6g}", name, error, allowed));
  }
}

double max_abs(const at::Tensor& tensor) {
  return tensor.to(at::kCPU, at::kDouble).abs().max().item<double>();
}

// Machine epsilon of a half-width float dtype.
double epsilon_of(at::ScalarType dtype) {
  return dtype == at::kBFloat16 ? std::ldexp(1.0, -7) : std::ldexp(1.0, -10);
}

at::Tensor stable_softplus(const at::Tensor& x) {
  return at::clamp_min(x, 0) + at::log1p(at::exp(-at::abs(x)));
}

}  // namespace

double max_abs_error(const at::Tensor& value, const at::Tensor& reference) {
  return (value.to(at::kCPU, at::kDouble) - reference.to(at::kCPU, at::kDouble))
      .abs()
      .max()
      .item<double>();
}

AttentionResult run_attention(const AttentionFn& attention, const at::Tensor& q,
                              const at::Tensor& k, const at::Tensor& v, const at::Tensor& grad_out,
                              at::ScalarType dtype, at::Device device) {
  const at::Tensor query = q.to(device, dtype).detach().requires_grad_(true);
  const at::Tensor key = k.to(device, dtype).detach().requires_grad_(true);
  const at::Tensor value = v.to(device, dtype).detach().requires_grad_(true);
  const at::Tensor out = attention(query, key, value);
  const std::vector<at::Tensor> grads =
      torch::autograd::grad({out}, {query, key, value}, {grad_out.to(device, out.scalar_type())});
  return {out.detach(), grads[0], grads[1], grads[2]};
}

at::Tensor naive_attention(const at::Tensor& query, const at::Tensor& key, const at::Tensor& value,
                           const AttentionLayout& layout) {
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

RuleCheck flash_rule(const AttentionResult& candidate, const AttentionResult& naive,
                     const AttentionResult& reference) {
  RuleCheck check;
  const std::vector<std::tuple<std::string, at::Tensor, at::Tensor, at::Tensor>> tensors = {
      {"out", candidate.out, naive.out, reference.out},
      {"dq", candidate.dq, naive.dq, reference.dq},
      {"dk", candidate.dk, naive.dk, reference.dk},
      {"dv", candidate.dv, naive.dv, reference.dv}};
  for (const auto& [name, value, baseline, truth] : tensors) {
    judge(check, name, value, truth, 2.0 * max_abs_error(baseline, truth) + 1e-5);
  }
  return check;
}

RuleCheck check_attention_rule(const AttentionFn& candidate, const AttentionLayout& layout,
                               const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                               const at::Tensor& grad_out, at::ScalarType dtype,
                               at::Device device) {
  const auto reference = [&](const at::Tensor& query, const at::Tensor& key,
                             const at::Tensor& value) {
    return attention_reference(query, key, value, layout);
  };
  const auto naive = [&](const at::Tensor& query, const at::Tensor& key, const at::Tensor& value) {
    return naive_attention(query, key, value, layout);
  };
  const AttentionResult truth = run_attention(reference, q, k, v, grad_out, at::kFloat, device);
  const AttentionResult baseline = run_attention(naive, q, k, v, grad_out, dtype, device);
  const AttentionResult result = run_attention(candidate, q, k, v, grad_out, dtype, device);
  RuleCheck check = flash_rule(result, baseline, truth);
  if (result.out.scalar_type() != dtype || result.dk.scalar_type() != dtype) {
    check.failures.insert(check.failures.begin(),
                          "the candidate's output or gradients are not in the input dtype");
  }
  return check;
}

HeadLossResult plain_head_loss(const HeadLossProblem& problem, at::ScalarType compute,
                               at::Device device) {
  const at::Tensor hidden = problem.hidden.to(device, compute).clone().requires_grad_(true);
  const at::Tensor weight = problem.head_weight.to(device, compute).clone().requires_grad_(true);
  const at::Tensor bias = problem.head_bias.to(device, compute).clone().requires_grad_(true);
  const at::Tensor margin = problem.margin.to(device, compute);
  const at::Tensor flat_weight = weight.reshape({-1});
  const at::Tensor reward_chosen =
      hidden.index_select(0, problem.chosen_index.to(device)).matmul(flat_weight) + bias;
  const at::Tensor reward_rejected =
      hidden.index_select(0, problem.rejected_index.to(device)).matmul(flat_weight) + bias;
  const at::Tensor gap = reward_chosen - reward_rejected - margin;
  const at::Tensor loss = stable_softplus(-gap).mean() +
                          problem.centering * (reward_chosen + reward_rejected).pow(2).mean();
  const std::vector<at::Tensor> grads = torch::autograd::grad({loss}, {hidden, weight, bias});
  return {loss.detach(), reward_chosen.detach(), reward_rejected.detach(), grads[0], grads[1],
          grads[2]};
}

RuleCheck head_loss_rule(const HeadLossResult& candidate, const HeadLossProblem& problem,
                         at::Device baseline_device) {
  const at::ScalarType dtype = problem.hidden.scalar_type();
  const HeadLossResult reference = plain_head_loss(problem, at::kDouble, at::Device(at::kCPU));
  HeadLossResult baseline;
  if (dtype != at::kFloat) baseline = plain_head_loss(problem, dtype, baseline_device);
  RuleCheck check;
  const std::vector<std::tuple<std::string, at::Tensor, at::Tensor, at::Tensor>> tensors = {
      {"loss", candidate.loss, baseline.loss, reference.loss},
      {"reward_chosen", candidate.reward_chosen, baseline.reward_chosen, reference.reward_chosen},
      {"reward_rejected", candidate.reward_rejected, baseline.reward_rejected,
       reference.reward_rejected},
      {"grad_hidden", candidate.grad_hidden, baseline.grad_hidden, reference.grad_hidden},
      {"grad_weight", candidate.grad_weight, baseline.grad_weight, reference.grad_weight},
      {"grad_bias", candidate.grad_bias, baseline.grad_bias, reference.grad_bias}};
  for (const auto& [name, value, plain, truth] : tensors) {
    const double scale = max_abs(truth);
    double allowed = 1e-4 * scale + 1e-6;
    if (dtype != at::kFloat) {
      const double unit = epsilon_of(dtype) * scale;
      double baseline_error = max_abs_error(plain, truth);
      if (!std::isfinite(baseline_error)) baseline_error = unit;
      allowed = 2.0 * baseline_error + 0.5 * unit + 1e-6;
    }
    judge(check, name, value, truth, allowed);
  }
  return check;
}

}  // namespace omnirm::ops
