// omnirm_bench_attention: the CUDA pair-attention kernels against LibTorch's
// scaled_dot_product_attention with only its flash backend enabled and with only its cuDNN
// backend enabled, side by side in one run, forward + backward (and forward alone), bf16, head
// dim 128, 16 heads:
//   causal        rows of 4096 tokens with one segment (plain causal) vs SDPA is_causal on the
//                 same sequences: the ratio SDPA time / kernel time (goal >= 0.9);
//   pair 4:1, 16:1  pair-prefix rows of 4096 tokens, prompt:response 4:1 and 16:1 (chosen and
//                 rejected equally long) vs SDPA on chosen and rejected as two causal
//                 sequences each, next to the ideal ratio: the FLOPs of the two sequences over
//                 those of the shared-prompt row (about 1.47 at 4:1).
// TFLOP/s count the pairs the mask allows (forward 4 d, forward + backward 14 d FLOPs per pair
// and head). Times are the best of 3 rounds, each the mean of --iterations steps; the sides
// alternate within a round. Where LibTorch's cuDNN attention refuses the inputs, its column
// says so and the others are still measured. Without a CUDA build or a CUDA device it says so
// and exits 2.
//   omnirm_bench_attention [--iterations N] [--rows R]
#include <ATen/ATen.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "omnirm/ops/attention.h"

#ifdef OMNIRM_WITH_CUDA
#include "omnirm/ops/pair_attention_cuda.h"
#endif

namespace {

constexpr int64_t kRowTokens = 4096;
constexpr int64_t kHeads = 16;
constexpr int64_t kHeadDim = 128;

#ifdef OMNIRM_WITH_CUDA

// Mean milliseconds per call of each step, best of 3 rounds in which the steps alternate.
std::vector<double> time_steps(const std::vector<std::function<void()>>& steps, int iterations) {
  const auto mean_ms = [&](const std::function<void()>& step) {
    torch::cuda::synchronize();
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; ++i) {
      step();
    }
    torch::cuda::synchronize();
    const std::chrono::duration<double, std::milli> elapsed =
        std::chrono::steady_clock::now() - start;
    return elapsed.count() / iterations;
  };
  for (int i = 0; i < 3; ++i) {  // warm-up: kernels loaded, allocator filled
    for (const auto& step : steps) step();
  }
  std::vector<double> best(steps.size(), 1e30);
  for (int round = 0; round < 3; ++round) {
    for (size_t s = 0; s < steps.size(); ++s) best[s] = std::min(best[s], mean_ms(steps[s]));
  }
  return best;
}

// LibTorch's SDPA backends the benchmark compares with, one at a time.
enum class SdpaBackend { flash, cudnn };

void use_only(SdpaBackend backend) {
  at::globalContext().setSDPUseFlash(backend == SdpaBackend::flash);
  at::globalContext().setSDPUseMemEfficient(false);
  at::globalContext().setSDPUseMath(false);
  at::globalContext().setSDPUseCuDNN(backend == SdpaBackend::cudnn);
}

// Leaf tensors of one side of a comparison: q, k, v [tokens, H, d] and dO, bf16 on the GPU.
struct Inputs {
  at::Tensor q, k, v, grad_out;
};

Inputs random_inputs(int64_t tokens) {
  const auto options = at::TensorOptions().device(at::kCUDA, 0).dtype(at::kBFloat16);
  Inputs inputs;
  inputs.q = at::randn({tokens, kHeads, kHeadDim}, options).requires_grad_(true);
  inputs.k = at::randn({tokens, kHeads, kHeadDim}, options).requires_grad_(true);
  inputs.v = at::randn({tokens, kHeads, kHeadDim}, options).requires_grad_(true);
  inputs.grad_out = at::randn({tokens, kHeads, kHeadDim}, options);
  return inputs;
}

// One step of the kernels on packed rows: forward, and backward when `backward`.
std::function<void()> kernel_step(const Inputs& in, const std::vector<int64_t>& offsets,
                                  const std::vector<int8_t>& segments, bool backward) {
  const at::Tensor row_offsets = at::tensor(offsets, at::kLong).to(at::kCUDA);
  const at::Tensor segment_table = at::tensor(segments, at::kChar).to(at::kCUDA);
  int64_t longest = 0;
  for (size_t r = 0; r + 1 < offsets.size(); ++r) {
    longest = std::max(longest, offsets[r + 1] - offsets[r]);
  }
  return [=] {
    if (backward) {
      const at::Tensor out = omnirm::ops::cuda::pair_attention_cuda(in.q, in.k, in.v, row_offsets,
                                                                    segment_table, longest);
      torch::autograd::grad({out}, {in.q, in.k, in.v}, {in.grad_out});
    } else {
      const c10::NoGradGuard no_grad;
      omnirm::ops::cuda::pair_attention_cuda(in.q, in.k, in.v, row_offsets, segment_table, longest);
    }
  };
}

// One step of SDPA (only `sdpa` enabled) over `sequences` causal sequences of equal length,
// packed in `in`.
std::function<void()> sdpa_step(const Inputs& in, int64_t sequences, bool backward,
                                SdpaBackend sdpa) {
  const int64_t length = in.q.size(0) / sequences;
  const auto heads_first = [&](const at::Tensor& x) {  // [S*L, H, d] → [S, H, L, d] view
    return x.view({sequences, length, kHeads, kHeadDim}).transpose(1, 2);
  };
  return [=] {
    use_only(sdpa);
    if (backward) {
      const at::Tensor out = at::scaled_dot_product_attention(heads_first(in.q), heads_first(in.k),
                                                              heads_first(in.v), std::nullopt, 0.0,
                                                              /*is_causal=*/true);
      torch::autograd::grad({out}, {in.q, in.k, in.v}, {heads_first(in.grad_out)});
    } else {
      const c10::NoGradGuard no_grad;
      at::scaled_dot_product_attention(heads_first(in.q), heads_first(in.k), heads_first(in.v),
                                       std::nullopt, 0.0, /*is_causal=*/true);
    }
  };
}

double tflops(double pairs, double flops_per_pair_head, double ms) {
  return pairs * flops_per_pair_head * kHeads * kHeadDim / (ms * 1e-3) / 1e12;
}

struct Layout {
  std::vector<int64_t> offsets = {0};
  std::vector<int8_t> segments;
  void add(const std::vector<std::pair<int8_t, int64_t>>& runs) {
    for (const auto& [code, count] : runs) {
      segments.insert(segments.end(), static_cast<size_t>(count), code);
    }
    offsets.push_back(static_cast<int64_t>(segments.size()));
  }
};

// Prints forward and forward + backward lines for one comparison.
void compare(const std::string& name, const Layout& ours, int64_t sdpa_sequences,
             int64_t sdpa_tokens, int iterations) {
  const double our_pairs =
      static_cast<double>(omnirm::ops::attention_allowed_pairs(ours.offsets, ours.segments));
  const int64_t length = sdpa_tokens / sdpa_sequences;
  const double sdpa_pairs = static_cast<double>(sdpa_sequences) * length * (length + 1) / 2.0;
  const Inputs kernel_inputs = random_inputs(static_cast<int64_t>(ours.segments.size()));
  const Inputs sdpa_inputs = random_inputs(sdpa_tokens);
  const double ideal = sdpa_pairs / our_pairs;
  for (const bool backward : {false, true}) {
    std::vector<std::function<void()>> steps = {
        kernel_step(kernel_inputs, ours.offsets, ours.segments, backward),
        sdpa_step(sdpa_inputs, sdpa_sequences, backward, SdpaBackend::flash)};
    // cuDNN's attention is measured only where LibTorch accepts these inputs for it.
    const std::function<void()> cudnn =
        sdpa_step(sdpa_inputs, sdpa_sequences, backward, SdpaBackend::cudnn);
    std::string cudnn_refusal;
    try {
      cudnn();
      steps.push_back(cudnn);
    } catch (const std::exception& error) {
      cudnn_refusal = error.what();
      cudnn_refusal = cudnn_refusal.substr(0, cudnn_refusal.find('\n'));
    }
    const std::vector<double> ms = time_steps(steps, iterations);
    const double per_pair = backward ? 14.0 : 4.0;
    std::printf(
        "%-10s %-8s kernel %7.3f ms %6.1f TFLOP/s | sdpa-flash %7.3f ms %6.1f TFLOP/s | "
        "speed ratio (sdpa-flash / kernel) %.3f | ideal FLOP ratio %.3f\n",
        name.c_str(), backward ? "fwd+bwd" : "fwd", ms[0], tflops(our_pairs, per_pair, ms[0]),
        ms[1], tflops(sdpa_pairs, per_pair, ms[1]), ms[1] / ms[0], ideal);
    if (ms.size() > 2) {
      std::printf(
          "%-10s %-8s sdpa-cudnn %7.3f ms %6.1f TFLOP/s | speed ratio (sdpa-cudnn / kernel) %.3f\n",
          name.c_str(), backward ? "fwd+bwd" : "fwd", ms[2], tflops(sdpa_pairs, per_pair, ms[2]),
          ms[2] / ms[0]);
    } else {
      std::printf("%-10s %-8s sdpa-cudnn not measured: %s\n", name.c_str(),
                  backward ? "fwd+bwd" : "fwd", cudnn_refusal.c_str());
    }
    std::fflush(stdout);
  }
}

// prompt:response ratio r with equal chosen and rejected: P + 2C = kRowTokens.
Layout pair_rows(int64_t rows, int64_t ratio, int64_t* prompt, int64_t* response) {
  int64_t p = kRowTokens * ratio / (ratio + 2);
  if ((kRowTokens - p) % 2 != 0) {
    --p;
  }
  *prompt = p;
  *response = (kRowTokens - p) / 2;
  Layout layout;
  for (int64_t r = 0; r < rows; ++r) {
    layout.add({{0, *prompt}, {1, *response}, {2, *response}});
  }
  return layout;
}

int run(int iterations, int64_t rows) {
  at::manual_seed(0);
  std::printf(
      "pair attention vs SDPA (flash backend only, FA3 %s; cuDNN backend only, cuDNN %ld): bf16, "
      "%lld heads, d %lld, %lld rows of %lld tokens, %d iterations x best of 3\n",
      at::globalContext().userEnabledFA3SDP() ? "enabled" : "off",
      at::globalContext().hasCuDNN() ? at::detail::getCUDAHooks().versionCuDNN() : 0L,
      static_cast<long long>(kHeads), static_cast<long long>(kHeadDim),
      static_cast<long long>(rows), static_cast<long long>(kRowTokens), iterations);

  Layout causal;
  for (int64_t r = 0; r < rows; ++r) {
    causal.add({{0, kRowTokens}});
  }
  std::printf("causal: plain causal rows; goal fwd+bwd speed ratio (sdpa / kernel) >= 0.9\n");
  compare("causal", causal, rows, rows * kRowTokens, iterations);

  for (const int64_t ratio : {4, 16}) {
    int64_t prompt = 0;
    int64_t response = 0;
    const Layout pairs = pair_rows(rows, ratio, &prompt, &response);
    const std::string name = "pair " + std::to_string(ratio) + ":1";
    std::printf("%s: P %lld, C = R %lld; sdpa runs %lld sequences of %lld tokens\n", name.c_str(),
                static_cast<long long>(prompt), static_cast<long long>(response),
                static_cast<long long>(2 * rows), static_cast<long long>(prompt + response));
    compare(name, pairs, 2 * rows, 2 * rows * (prompt + response), iterations);
  }
  return 0;
}

#endif  // OMNIRM_WITH_CUDA

}  // namespace

int main(int argc, char** argv) {
  int iterations = 10;
  int64_t rows = 4;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg == "--iterations" || arg == "--rows") && i + 1 < argc) {
      const long value = std::strtol(argv[++i], nullptr, 10);
      if (value <= 0) {
        std::fprintf(stderr, "omnirm_bench_attention: %s must be a positive integer\n",
                     arg.c_str());
        return 2;
      }
      if (arg == "--iterations") {
        iterations = static_cast<int>(value);
      } else {
        rows = value;
      }
    } else {
      std::fprintf(stderr, "usage: omnirm_bench_attention [--iterations N] [--rows R]\n");
      return 2;
    }
  }
#ifdef OMNIRM_WITH_CUDA
  if (!torch::cuda::is_available() || torch::cuda::device_count() == 0) {
    std::printf("omnirm_bench_attention: needs a CUDA device; none found, nothing measured\n");
    return 2;
  }
  return run(iterations, rows);
#else
  (void)iterations;
  (void)rows;
  std::printf(
      "omnirm_bench_attention: needs CUDA; this build has no CUDA kernels, nothing measured\n");
  return 2;
#endif
}
