// ops::reward_head_loss on the CPU: the composition it runs there is the value head followed
// by bt_loss, to the bit — loss, rewards and the gradients of hidden, weight and bias — with
// and without bias and margins, and inside a bf16 autocast region (the head stays fp32). CPU
// tensors never take the fused op; bad shapes are refused with the argument named. The fused
// CUDA path is checked against this composition in tests/kernels/bt_head_loss_test.cpp.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

#include <string>
#include <vector>

#include "omnirm/ops/autocast.h"
#include "omnirm/ops/bt_loss.h"
#include "omnirm/ops/reward_head.h"
#include "support/torch_error.h"

namespace {

using omnirm::ops::RewardHeadLoss;

struct HeadInputs {
  at::Tensor hidden;  // [N, D] fp32, requires grad
  at::Tensor chosen;  // [B] int64
  at::Tensor rejected;
  at::Tensor weight;  // [1, D] fp32, requires grad
  at::Tensor bias;    // [1] fp32, requires grad
  at::Tensor margin;  // [B] fp32
};

HeadInputs make_head_inputs(uint64_t seed) {
  at::manual_seed(seed);
  HeadInputs in;
  in.hidden = at::randn({12, 16}).requires_grad_(true);
  in.chosen = at::tensor(std::vector<int64_t>{3, 7, 11}, at::kLong);
  in.rejected = at::tensor(std::vector<int64_t>{5, 9, 0}, at::kLong);
  in.weight = (at::randn({1, 16}) * 0.3).requires_grad_(true);
  in.bias = at::randn({1}).requires_grad_(true);
  in.margin = at::rand({3});
  return in;
}

// Loss, rewards and gradients (hidden, weight, bias; undefined where not needed).
struct Outcome {
  at::Tensor loss, chosen, rejected, grad_hidden, grad_weight, grad_bias;
};

Outcome gradients_of(const at::Tensor& loss, const at::Tensor& chosen, const at::Tensor& rejected,
                     const HeadInputs& in, bool with_bias) {
  std::vector<at::Tensor> wrt = {in.hidden, in.weight};
  if (with_bias) wrt.push_back(in.bias);
  const std::vector<at::Tensor> grads = torch::autograd::grad({loss}, wrt);
  return {loss.detach(), chosen, rejected, grads[0], grads[1], with_bias ? grads[2] : at::Tensor()};
}

// The value head as the model applies it, then bt_loss.
Outcome composed(const HeadInputs& in, bool with_bias, bool with_margin, double centering) {
  const at::Tensor rewards =
      at::linear(in.hidden.index_select(0, at::cat({in.chosen, in.rejected})), in.weight,
                 with_bias ? in.bias : at::Tensor())
          .squeeze(-1);
  const at::Tensor chosen = rewards.narrow(0, 0, 3);
  const at::Tensor rejected = rewards.narrow(0, 3, 3);
  const at::Tensor loss =
      omnirm::ops::bt_loss(chosen, rejected, with_margin ? in.margin : at::Tensor(), centering);
  return gradients_of(loss, chosen.detach(), rejected.detach(), in, with_bias);
}

// The op, with its forward inside a bf16 autocast region when `bf16_autocast` (backward after
// it, as a training step runs them).
Outcome through_op(const HeadInputs& in, bool with_bias, bool with_margin, double centering,
                   bool bf16_autocast = false) {
  RewardHeadLoss out;
  {
    omnirm::ops::AutocastScope autocast(c10::DeviceType::CPU, bf16_autocast
                                                                  ? omnirm::ops::Precision::bf16
                                                                  : omnirm::ops::Precision::fp32);
    out = omnirm::ops::reward_head_loss(in.hidden, in.chosen, in.rejected, in.weight,
                                        with_bias ? in.bias : at::Tensor(),
                                        with_margin ? in.margin : at::Tensor(), centering);
  }
  EXPECT_FALSE(out.reward_chosen.requires_grad());
  return gradients_of(out.loss, out.reward_chosen, out.reward_rejected, in, with_bias);
}

void expect_same_bits(const Outcome& a, const Outcome& b) {
  EXPECT_TRUE(at::equal(a.loss, b.loss));
  EXPECT_TRUE(at::equal(a.chosen, b.chosen));
  EXPECT_TRUE(at::equal(a.rejected, b.rejected));
  EXPECT_TRUE(at::equal(a.grad_hidden, b.grad_hidden));
  EXPECT_TRUE(at::equal(a.grad_weight, b.grad_weight));
  EXPECT_EQ(a.grad_bias.defined(), b.grad_bias.defined());
  if (a.grad_bias.defined()) {
    EXPECT_TRUE(at::equal(a.grad_bias, b.grad_bias));
  }
}

TEST(RewardHeadLoss, OnTheCpuItIsTheHeadThenBtLossToTheBit) {
  for (const bool with_bias : {true, false}) {
    for (const bool with_margin : {true, false}) {
      for (const double centering : {0.0, 0.01}) {
        const HeadInputs in = make_head_inputs(7);
        SCOPED_TRACE("bias " + std::to_string(with_bias) + ", margin " +
                     std::to_string(with_margin) + ", centering " + std::to_string(centering));
        expect_same_bits(through_op(in, with_bias, with_margin, centering),
                         composed(in, with_bias, with_margin, centering));
      }
    }
  }
  const HeadInputs in = make_head_inputs(7);
  EXPECT_FALSE(omnirm::ops::reward_head_loss_is_fused(in.hidden, in.weight));
}

TEST(RewardHeadLoss, TheHeadStaysFp32InsideBf16Autocast) {
  const HeadInputs in = make_head_inputs(3);
  const Outcome plain = through_op(in, true, true, 0.0);
  const Outcome autocast = through_op(in, true, true, 0.0, true);
  EXPECT_EQ(autocast.chosen.scalar_type(), at::kFloat);
  expect_same_bits(autocast, plain);
}

TEST(RewardHeadLoss, RefusesMismatchedShapes) {
  const HeadInputs in = make_head_inputs(1);
  EXPECT_NE(omnirm::testing::torch_error_of([&] {
              omnirm::ops::reward_head_loss(in.hidden, in.chosen, in.rejected,
                                            in.weight.narrow(1, 0, 8), in.bias, in.margin, 0.0);
            }).find("head_weight"),
            std::string::npos);
  EXPECT_NE(omnirm::testing::torch_error_of([&] {
              omnirm::ops::reward_head_loss(in.hidden, in.chosen, in.rejected.narrow(0, 0, 2),
                                            in.weight, in.bias, in.margin, 0.0);
            }).find("rejected_index"),
            std::string::npos);
}

}  // namespace
