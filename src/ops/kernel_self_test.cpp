// Implementation of ops/kernel_self_test.h.
#include "omnirm/ops/kernel_self_test.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>
#include <torch/csrc/autograd/autograd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <utility>

#include "omnirm/ops/accuracy_rules.h"
#include "omnirm/ops/attention.h"
#include "omnirm/ops/autocast.h"

namespace omnirm::ops {

namespace {

constexpr uint64_t kSeed = 20261207;

std::string dtype_name(at::ScalarType dtype) {
  switch (dtype) {
    case at::kBFloat16:
      return "bf16";
    case at::kHalf:
      return "fp16";
    case at::kFloat:
      return "fp32";
    default:
      return std::string(c10::toString(dtype));
  }
}

const char* kind_name(FusedKind kind) {
  return kind == FusedKind::attention ? "attention" : "head_loss";
}

// The results so far, keyed by kind, kernel, device, dtype and shape; plus which failures
// have been logged. One lock for all: a self-test runs while it is held, so two threads
// wanting the same test run it once.
struct Registry {
  std::mutex mutex;
  std::map<std::string, SelfTestResult> results;
  std::vector<std::string> order;
  std::set<std::string> logged;
  std::function<void(const std::string&)> sink;
};

Registry& registry() {
  static Registry instance;
  return instance;
}

std::string key_of(const SelfTestResult& r) {
  return fmt::format("{}|{}|{}|{}|{}", kind_name(r.kind), r.kernel, r.device, r.dtype, r.shape);
}

void log_line(Registry& reg, const std::string& line) {
  if (reg.sink) {
    reg.sink(line);
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

// The state a self-test needs whatever the caller's: gradients on, no inference mode, autocast
// off on both device types.
struct CleanComputeState {
  c10::InferenceMode not_inference{false};
  at::AutoGradMode gradients{true};
  AutocastScope no_autocast{AutocastState{}};
};

// fp32 normal values of `sizes` on the CPU from `generator`.
at::Tensor random_normal(at::IntArrayRef sizes, at::Generator& generator) {
  return at::randn(sizes, generator, at::TensorOptions().dtype(at::kFloat));
}

// Pair-prefix rows of every kind the kernels meet: odd lengths, a one-token prompt, empty
// chosen, empty rejected, and a row long enough for whole tiles of the other response (512
// tokens in all).
void self_test_rows(std::vector<int64_t>& offsets, std::vector<int8_t>& segments) {
  const std::vector<std::vector<std::pair<int8_t, int>>> rows = {
      {{0, 37}, {1, 21}, {2, 45}}, {{0, 1}, {1, 5}, {2, 3}},     {{0, 50}, {2, 30}},
      {{0, 20}, {1, 40}},          {{0, 64}, {1, 130}, {2, 66}},
  };
  offsets = {0};
  segments.clear();
  for (const auto& runs : rows) {
    for (const auto& [code, count] : runs) segments.insert(segments.end(), count, code);
    offsets.push_back(static_cast<int64_t>(segments.size()));
  }
}

template <typename RunTest>
SelfTestResult run_once(SelfTestResult result, RunTest&& run_test) {
  Registry& reg = registry();
  std::lock_guard<std::mutex> lock(reg.mutex);
  const std::string key = key_of(result);
  if (const auto found = reg.results.find(key); found != reg.results.end()) return found->second;
  const auto start = std::chrono::steady_clock::now();
  try {
    const CleanComputeState clean;
    const RuleCheck check = run_test();
    result.passed = check.passed();
    result.figures = check.figures;
    for (const std::string& failure : check.failures) {
      result.failures += (result.failures.empty() ? "" : "; ") + failure;
    }
  } catch (const std::exception& error) {
    result.passed = false;
    result.failures = std::string("the kernel raised: ") + error.what();
  }
  result.milliseconds =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  reg.results.emplace(key, result);
  reg.order.push_back(key);
  return result;
}

// The dispatch decision for a result; see *_kernel_usable in the header.
bool usable(const SelfTestResult& result, bool required, const std::string& requirement,
            const std::string& fallback) {
  if (result.passed) return true;
  if (required) {
    throw KernelSelfTestFailure(fmt::format(
        "{}: the {} failed their self-test: {} [{}]; set model.attention_backend=auto to fall "
        "back to {}",
        requirement, result.subject(), result.failures, result.figures, fallback));
  }
  Registry& reg = registry();
  std::lock_guard<std::mutex> lock(reg.mutex);
  if (reg.logged.insert(key_of(result)).second) {
    log_line(reg,
             fmt::format("kernel self-test: the {} failed: {}; using {} for the rest of the run",
                         result.subject(), result.failures, fallback));
  }
  return false;
}

}  // namespace

std::string SelfTestResult::subject() const {
  return fmt::format("{} on {} ({}, {})", kernel, device, dtype, shape);
}

SelfTestResult attention_self_test(const FusedAttentionKernel& kernel, at::Device device,
                                   at::ScalarType dtype, int64_t head_dim, int64_t heads,
                                   int64_t kv_heads) {
  SelfTestResult result;
  result.kind = FusedKind::attention;
  result.kernel = kernel.name;
  result.device = device.str();
  result.dtype = dtype_name(dtype);
  result.shape =
      fmt::format("head size {}, {} query / {} key-value heads", head_dim, heads, kv_heads);
  return run_once(std::move(result), [&] {
    std::vector<int64_t> offsets;
    std::vector<int8_t> segments;
    self_test_rows(offsets, segments);
    const AttentionLayout layout = make_attention_layout(offsets, segments, device);
    const int64_t tokens = static_cast<int64_t>(segments.size());
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(kSeed);
    const at::Tensor q = random_normal({tokens, heads, head_dim}, generator);
    const at::Tensor k = random_normal({tokens, kv_heads, head_dim}, generator);
    const at::Tensor v = random_normal({tokens, kv_heads, head_dim}, generator);
    const at::Tensor grad_out = random_normal({tokens, heads, head_dim}, generator);
    const auto candidate = [&](const at::Tensor& query, const at::Tensor& key,
                               const at::Tensor& value) {
      return kernel.run(query, key, value, layout.row_offsets, layout.segments,
                        layout.max_row_length);
    };
    return check_attention_rule(candidate, layout, q, k, v, grad_out, dtype, device);
  });
}

SelfTestResult head_loss_self_test(const FusedHeadLossKernel& kernel, at::Device device,
                                   at::ScalarType dtype, int64_t hidden_size) {
  SelfTestResult result;
  result.kind = FusedKind::head_loss;
  result.kernel = kernel.name;
  result.device = device.str();
  result.dtype = dtype_name(dtype);
  result.shape = fmt::format("hidden size {}", hidden_size);
  return run_once(std::move(result), [&] {
    constexpr int64_t pairs = 7;
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(kSeed);
    HeadLossProblem problem;
    const at::Tensor rows = at::randperm(2 * pairs + 5, generator, at::TensorOptions(at::kLong));
    problem.chosen_index = rows.slice(0, 0, pairs).contiguous();
    problem.rejected_index = rows.slice(0, pairs, 2 * pairs).contiguous();
    problem.hidden = random_normal({2 * pairs + 5, hidden_size}, generator).to(dtype);
    problem.head_weight =
        random_normal({1, hidden_size}, generator) / std::sqrt(static_cast<double>(hidden_size));
    problem.head_bias = random_normal({1}, generator) * 0.5;
    problem.margin = at::rand({pairs}, generator, at::TensorOptions(at::kFloat)) * 0.9 + 0.1;
    problem.centering = 0.01;

    const at::Tensor hidden = problem.hidden.to(device).requires_grad_(true);
    const at::Tensor weight = problem.head_weight.to(device).requires_grad_(true);
    const at::Tensor bias = problem.head_bias.to(device).requires_grad_(true);
    const RewardHeadLoss out =
        kernel.run(hidden, problem.chosen_index.to(device), problem.rejected_index.to(device),
                   weight, bias, problem.margin.to(device), problem.centering);
    const std::vector<at::Tensor> grads = torch::autograd::grad({out.loss}, {hidden, weight, bias});
    const HeadLossResult candidate{out.loss.detach(), out.reward_chosen, out.reward_rejected,
                                   grads[0],          grads[1],          grads[2]};
    return head_loss_rule(candidate, problem, device);
  });
}

bool attention_kernel_usable(const FusedAttentionKernel& kernel, at::Device device,
                             at::ScalarType dtype, int64_t head_dim, int64_t heads,
                             int64_t kv_heads, bool required) {
  return usable(attention_self_test(kernel, device, dtype, head_dim, heads, kv_heads), required,
                "model.attention_backend: cuda", "sdpa");
}

bool head_loss_kernel_usable(const FusedHeadLossKernel& kernel, at::Device device,
                             at::ScalarType dtype, int64_t hidden_size, bool required) {
  return usable(head_loss_self_test(kernel, device, dtype, hidden_size), required,
                "model.attention_backend: cuda", "the composed head and loss");
}

std::vector<SelfTestResult> self_test_results() {
  Registry& reg = registry();
  std::lock_guard<std::mutex> lock(reg.mutex);
  std::vector<SelfTestResult> all;
  for (const std::string& key : reg.order) all.push_back(reg.results.at(key));
  return all;
}

void forget_self_tests(FusedKind kind, c10::DeviceType device_type) {
  Registry& reg = registry();
  std::lock_guard<std::mutex> lock(reg.mutex);
  const std::string device_prefix = c10::DeviceTypeName(device_type, /*lower_case=*/true);
  std::vector<std::string> kept;
  for (const std::string& key : reg.order) {
    const SelfTestResult& r = reg.results.at(key);
    if (r.kind == kind && r.device.rfind(device_prefix, 0) == 0) {
      reg.results.erase(key);
      reg.logged.erase(key);
    } else {
      kept.push_back(key);
    }
  }
  reg.order = std::move(kept);
}

void set_kernel_log(std::function<void(const std::string&)> sink) {
  Registry& reg = registry();
  std::lock_guard<std::mutex> lock(reg.mutex);
  reg.sink = std::move(sink);
}

}  // namespace omnirm::ops
