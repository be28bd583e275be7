// Checks the fused CUDA Bradley–Terry head (ops::cuda::bt_head_loss_cuda) against the same
// expression in plain ATen ops: fp64 on the CPU is the ground truth for loss, rewards and the
// gradients of hidden, head weight and head bias. fp32 hidden states must match it to 1e-4
// relative; bf16/fp16 ones may err at most twice as much as the plain ops run in that precision
// on the GPU, plus half a unit of that precision at the tensor's scale. Cases cover B in
// {1, 7, 64}, D in {64, 896}, lambda in {0, 0.01}, non-zero margins and reward gaps of ±1e4.
// Without a CUDA build or a CUDA device the GPU tests skip with a message; the same kernels
// also run on the host through the kernel emulation (tests/kernels/emulation) for six of the
// cases, GPU or not.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <cmath>
#include <string>
#include <tuple>

#include "kernels/gpu_skip.h"
#include "support/torch_error.h"

#include "omnirm/ops/accuracy_rules.h"
#include "omnirm/ops/reward_head.h"

#ifdef OMNIRM_WITH_CUDA
#include "omnirm/ops/bt_head_loss_cuda.h"
#endif

#include "kernels/emulated_kernels.h"

namespace {

// (hidden dtype, B, D, lambda, huge gaps)
using HeadLossCase = std::tuple<at::ScalarType, int64_t, int64_t, double, bool>;

std::string case_name(const ::testing::TestParamInfo<HeadLossCase>& info) {
  const auto& [dtype, pairs, hidden_size, centering, huge_gaps] = info.param;
  const std::string dtype_name = dtype == at::kFloat      ? "fp32"
                                 : dtype == at::kBFloat16 ? "bf16"
                                                          : "fp16";
  return dtype_name + "_B" + std::to_string(pairs) + "_D" + std::to_string(hidden_size) +
         (centering != 0.0 ? "_centered" : "_uncentered") + (huge_gaps ? "_gaps1e4" : "_random");
}

#if defined(OMNIRM_WITH_CUDA) || defined(OMNIRM_KERNEL_EMULATION)

using omnirm::ops::HeadLossProblem;
using omnirm::ops::HeadLossResult;
using omnirm::ops::max_abs_error;

// Random problem. With huge_gaps, the last-token row of the chosen response (even pairs) or
// of the rejected one (odd pairs) is moved by 1e4 along w / |w|^2, which raises its reward by
// 1e4: gaps alternate between about +1e4 and -1e4.
HeadLossProblem make_inputs(at::ScalarType dtype, int64_t pairs, int64_t hidden_size,
                            bool huge_gaps, double centering = 0.0) {
  at::manual_seed(static_cast<uint64_t>(1000 * pairs + hidden_size + (huge_gaps ? 7 : 0)));
  const int64_t tokens = 2 * pairs + 5;
  HeadLossProblem inputs;
  inputs.centering = centering;
  const at::Tensor rows = at::randperm(tokens, at::kLong);
  inputs.chosen_index = rows.slice(0, 0, pairs).contiguous();
  inputs.rejected_index = rows.slice(0, pairs, 2 * pairs).contiguous();
  inputs.head_weight = at::randn({1, hidden_size}) / std::sqrt(static_cast<double>(hidden_size));
  inputs.head_bias = at::randn({1}) * 0.5;
  inputs.margin = at::rand({pairs}) * 0.9 + 0.1;
  at::Tensor hidden = at::randn({tokens, hidden_size});
  if (huge_gaps) {
    const at::Tensor direction = inputs.head_weight[0] / inputs.head_weight.pow(2).sum();
    for (int64_t i = 0; i < pairs; ++i) {
      const at::Tensor& index = i % 2 == 0 ? inputs.chosen_index : inputs.rejected_index;
      hidden[index[i].item<int64_t>()].add_(direction * 1e4);
    }
  }
  inputs.hidden = hidden.to(dtype);
  return inputs;
}

#ifdef OMNIRM_WITH_CUDA
// The fused op on CUDA device 0, gradients through its autograd Function.
HeadLossResult fused_head_loss(const HeadLossProblem& inputs) {
  const at::Device device(at::kCUDA, 0);
  const at::Tensor hidden = inputs.hidden.to(device).requires_grad_(true);
  const at::Tensor weight = inputs.head_weight.to(device).requires_grad_(true);
  const at::Tensor bias = inputs.head_bias.to(device).requires_grad_(true);
  const omnirm::ops::cuda::BtHeadLossOutput output = omnirm::ops::cuda::bt_head_loss_cuda(
      hidden, inputs.chosen_index.to(device), inputs.rejected_index.to(device), weight, bias,
      inputs.margin.to(device), inputs.centering);
  EXPECT_TRUE(output.loss.requires_grad());
  EXPECT_FALSE(output.reward_chosen.requires_grad());
  EXPECT_EQ(output.loss.dim(), 0);
  output.loss.backward();
  EXPECT_EQ(hidden.grad().scalar_type(), inputs.hidden.scalar_type());
  return {output.loss.detach(), output.reward_chosen, output.reward_rejected,
          hidden.grad(),        weight.grad(),        bias.grad()};
}
#endif  // OMNIRM_WITH_CUDA

#ifdef OMNIRM_KERNEL_EMULATION
// The fused kernels run on the host (tests/kernels/emulation) on the CPU tensors of `inputs`,
// gradients through their autograd function (dloss = 1).
HeadLossResult emulated_head_loss(const HeadLossProblem& inputs) {
  const at::Tensor hidden = inputs.hidden.clone().requires_grad_(true);
  const at::Tensor weight = inputs.head_weight.clone().requires_grad_(true);
  const at::Tensor bias = inputs.head_bias.clone().requires_grad_(true);
  const omnirm::ops::RewardHeadLoss out =
      omnirm::testing::emulated_bt_head_loss(hidden, inputs.chosen_index, inputs.rejected_index,
                                             weight, bias, inputs.margin, inputs.centering);
  out.loss.backward();
  return {out.loss.detach(), out.reward_chosen, out.reward_rejected,
          hidden.grad(),     weight.grad(),     bias.grad()};
}
#endif  // OMNIRM_KERNEL_EMULATION

double max_abs(const at::Tensor& tensor) {
  return tensor.to(at::kCPU, at::kDouble).abs().max().item<double>();
}

// Every output of `candidate` against the fp64 reference by the head + loss rule
// (ops/accuracy_rules.h), with the plain ops in the hidden dtype on `baseline_device` as the
// baseline.
void expect_matches_reference(const HeadLossProblem& inputs, bool huge_gaps,
                              const HeadLossResult& candidate, at::Device baseline_device) {
  if (huge_gaps) {
    const HeadLossResult reference =
        omnirm::ops::plain_head_loss(inputs, at::kDouble, at::Device(at::kCPU));
    const at::Tensor gaps = (reference.reward_chosen - reference.reward_rejected).abs();
    ASSERT_GT(gaps.min().item<double>(), 5e3) << "the problem lacks the intended huge gaps";
  }
  const omnirm::ops::RuleCheck check =
      omnirm::ops::head_loss_rule(candidate, inputs, baseline_device);
  for (const std::string& failure : check.failures) ADD_FAILURE() << failure;
  EXPECT_TRUE(check.passed()) << check.figures;
}

#endif  // OMNIRM_WITH_CUDA || OMNIRM_KERNEL_EMULATION

class BtHeadLossCudaTest : public ::testing::TestWithParam<HeadLossCase> {};

TEST_P(BtHeadLossCudaTest, MatchesPlainAtenInFp64) {
  OMNIRM_SKIP_WITHOUT_GPU();
#ifdef OMNIRM_WITH_CUDA
  const auto& [dtype, pairs, hidden_size, centering, huge_gaps] = GetParam();
  const HeadLossProblem inputs = make_inputs(dtype, pairs, hidden_size, huge_gaps, centering);
  expect_matches_reference(inputs, huge_gaps, fused_head_loss(inputs), at::Device(at::kCUDA, 0));
#endif
}

INSTANTIATE_TEST_SUITE_P(AllShapes, BtHeadLossCudaTest,
                         ::testing::Combine(::testing::Values(at::kFloat, at::kBFloat16, at::kHalf),
                                            ::testing::Values<int64_t>(1, 7, 64),
                                            ::testing::Values<int64_t>(64, 896),
                                            ::testing::Values(0.0, 0.01),
                                            ::testing::Values(false, true)),
                         case_name);

#ifdef OMNIRM_KERNEL_EMULATION
// The same kernels run on the host (tests/kernels/emulation), against the same reference, the
// plain ops in the low precision running on the CPU as the baseline.
class BtHeadLossEmulatedTest : public ::testing::TestWithParam<HeadLossCase> {};

TEST_P(BtHeadLossEmulatedTest, MatchesPlainAtenInFp64) {
  const auto& [dtype, pairs, hidden_size, centering, huge_gaps] = GetParam();
  const HeadLossProblem inputs = make_inputs(dtype, pairs, hidden_size, huge_gaps, centering);
  expect_matches_reference(inputs, huge_gaps, emulated_head_loss(inputs), at::Device(at::kCPU));
}

// Each dtype, B 1, 7 and 64, both D, with and without centering and huge gaps.
INSTANTIATE_TEST_SUITE_P(Shapes, BtHeadLossEmulatedTest,
                         ::testing::Values(HeadLossCase{at::kFloat, 7, 64, 0.0, false},
                                           HeadLossCase{at::kFloat, 64, 896, 0.01, true},
                                           HeadLossCase{at::kBFloat16, 1, 896, 0.01, false},
                                           HeadLossCase{at::kBFloat16, 64, 64, 0.0, true},
                                           HeadLossCase{at::kHalf, 7, 896, 0.01, true},
                                           HeadLossCase{at::kHalf, 64, 896, 0.0, false}),
                         case_name);
#endif  // OMNIRM_KERNEL_EMULATION

// Without bias and margin, with a flat [D] weight that needs no gradient: the loss equals the
// plain expression with zero bias and margin, only hidden receives a gradient.
TEST(BtHeadLossCuda, OptionalBiasMarginAndWeightGradient) {
  OMNIRM_SKIP_WITHOUT_GPU();
#ifdef OMNIRM_WITH_CUDA
  HeadLossProblem inputs = make_inputs(at::kFloat, 7, 64, false, 0.01);
  inputs.head_bias = at::zeros({1});
  inputs.margin = at::zeros({7});
  const HeadLossResult reference =
      omnirm::ops::plain_head_loss(inputs, at::kDouble, at::Device(at::kCPU));

  const at::Device device(at::kCUDA, 0);
  const at::Tensor hidden = inputs.hidden.to(device).requires_grad_(true);
  const at::Tensor weight = inputs.head_weight.reshape({-1}).to(device);
  const omnirm::ops::cuda::BtHeadLossOutput output = omnirm::ops::cuda::bt_head_loss_cuda(
      hidden, inputs.chosen_index.to(device), inputs.rejected_index.to(device), weight,
      at::Tensor(), at::Tensor(), inputs.centering);
  output.loss.backward();

  // fp32: within 1e-4 of each reference's scale.
  const auto expect_close = [](const char* what, const at::Tensor& value, const at::Tensor& truth) {
    EXPECT_LE(max_abs_error(value, truth), 1e-4 * max_abs(truth) + 1e-6) << what;
  };
  expect_close("loss", output.loss, reference.loss);
  expect_close("reward_chosen", output.reward_chosen, reference.reward_chosen);
  expect_close("grad_hidden", hidden.grad(), reference.grad_hidden);
  EXPECT_FALSE(weight.grad().defined());
#endif
}

#ifdef OMNIRM_WITH_CUDA
// ops::reward_head_loss, which the model's loss() calls, takes the fused op for CUDA tensors,
// and gives what its composed path gives on the CPU for the same inputs: fp32 hidden states
// to 1e-5, bf16 ones (both paths read the same bf16 values, compute in fp32, and round dH
// to bf16 once) to 1e-5 in loss and rewards and one bf16 unit in dH.
TEST(RewardHeadLossCuda, FusedOnCudaMatchesTheComposedPath) {
  OMNIRM_SKIP_WITHOUT_GPU();
  const at::Device device(at::kCUDA, 0);
  for (const at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
    const HeadLossProblem inputs = make_inputs(dtype, 7, 64, false);
    const auto run_on = [&](at::Device where) {
      const at::Tensor hidden = inputs.hidden.to(where).requires_grad_(true);
      const at::Tensor weight = inputs.head_weight.to(where).requires_grad_(true);
      const at::Tensor bias = inputs.head_bias.to(where).requires_grad_(true);
      EXPECT_EQ(omnirm::ops::reward_head_loss_is_fused(hidden, weight), where.is_cuda());
      const omnirm::ops::RewardHeadLoss out = omnirm::ops::reward_head_loss(
          hidden, inputs.chosen_index.to(where), inputs.rejected_index.to(where), weight, bias,
          inputs.margin.to(where), 0.01);
      out.loss.backward();
      return HeadLossResult{out.loss.detach().cpu(),   out.reward_chosen.cpu(),
                            out.reward_rejected.cpu(), hidden.grad().cpu(),
                            weight.grad().cpu(),       bias.grad().cpu()};
    };
    const HeadLossResult fused = run_on(device);
    const HeadLossResult composed = run_on(at::Device(at::kCPU));
    const double hidden_tolerance = dtype == at::kFloat ? 1e-5 : std::ldexp(1.0, -7);
    EXPECT_LE(max_abs_error(fused.loss, composed.loss), 1e-5);
    EXPECT_LE(max_abs_error(fused.reward_chosen, composed.reward_chosen), 1e-5);
    EXPECT_LE(max_abs_error(fused.reward_rejected, composed.reward_rejected), 1e-5);
    EXPECT_LE(max_abs_error(fused.grad_weight, composed.grad_weight), 1e-5);
    EXPECT_LE(max_abs_error(fused.grad_bias, composed.grad_bias), 1e-5);
    EXPECT_LE(max_abs_error(fused.grad_hidden, composed.grad_hidden),
              hidden_tolerance * max_abs(composed.grad_hidden) + 1e-7);
  }
}

#endif  // OMNIRM_WITH_CUDA

// Tensors of the wrong kind are refused before anything reaches the device; this runs
// wherever the op is built, GPU or not.
TEST(BtHeadLossCuda, RejectsCpuTensors) {
#ifdef OMNIRM_WITH_CUDA
  const HeadLossProblem inputs = make_inputs(at::kFloat, 7, 64, false);
  EXPECT_THROW(omnirm::ops::cuda::bt_head_loss_cuda(inputs.hidden, inputs.chosen_index,
                                                    inputs.rejected_index, inputs.head_weight,
                                                    inputs.head_bias, inputs.margin, 0.0),
               c10::Error);
#else
  GTEST_SKIP() << "built without CUDA: the fused op does not exist";
#endif
}

// Shape and dtype mistakes on the device name the offending argument.
TEST(BtHeadLossCuda, RejectsMismatchedShapesAndDtypes) {
  OMNIRM_SKIP_WITHOUT_GPU();
#ifdef OMNIRM_WITH_CUDA
  const at::Device device(at::kCUDA, 0);
  const HeadLossProblem inputs = make_inputs(at::kFloat, 7, 64, false);
  const at::Tensor hidden = inputs.hidden.to(device);
  const at::Tensor chosen = inputs.chosen_index.to(device);
  const at::Tensor rejected = inputs.rejected_index.to(device);
  const at::Tensor weight = inputs.head_weight.to(device);
  const at::Tensor bias = inputs.head_bias.to(device);
  const at::Tensor margin = inputs.margin.to(device);
  using omnirm::ops::cuda::bt_head_loss_cuda;
  EXPECT_NE(omnirm::testing::torch_error_of([&] {
              bt_head_loss_cuda(hidden.to(at::kDouble), chosen, rejected, weight, bias, margin,
                                0.0);
            }).find("hidden"),
            std::string::npos);
  EXPECT_NE(omnirm::testing::torch_error_of([&] {
              bt_head_loss_cuda(hidden, chosen.to(at::kInt), rejected, weight, bias, margin, 0.0);
            }).find("chosen_index"),
            std::string::npos);
  EXPECT_NE(omnirm::testing::torch_error_of([&] {
              bt_head_loss_cuda(hidden, chosen, rejected.slice(0, 0, 3), weight, bias, margin, 0.0);
            }).find("rejected_index"),
            std::string::npos);
  EXPECT_NE(omnirm::testing::torch_error_of([&] {
              bt_head_loss_cuda(hidden, chosen, rejected, weight.slice(1, 0, 32), bias, margin,
                                0.0);
            }).find("head_weight"),
            std::string::npos);
  EXPECT_NE(omnirm::testing::torch_error_of([&] {
              bt_head_loss_cuda(hidden.t(), chosen, rejected, weight, bias, margin, 0.0);
            }).find("hidden"),
            std::string::npos);
  EXPECT_NE(omnirm::testing::torch_error_of([&] {
              bt_head_loss_cuda(hidden, chosen, rejected, weight, bias, margin.slice(0, 0, 2), 0.0);
            }).find("margin"),
            std::string::npos);
#endif
}

}  // namespace
