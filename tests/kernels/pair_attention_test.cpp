// Checks the CUDA pair-attention op (ops::cuda::pair_attention_cuda) against the fp32
// reference (ops::attention_reference on fp32 copies of the inputs, gradients by autograd)
// with FlashAttention's rule: the op's largest error, in the output and in each gradient, is
// at most twice that of a naive implementation run in the op's precision (dense masked
// scores, softmax and products in bf16 / fp16 on the GPU), both measured against the fp32
// reference, plus 1e-5. Layouts: pair-prefix rows of odd lengths, empty chosen and empty
// rejected responses, one-token prompts, rows spanning many tiles with whole tiles of the
// other response to skip, plain causal rows and naive-layout rows; GQA ratios 1, 2, 4; head
// dims 64 and 128; bf16 and fp16. The rule itself is checked on the CPU too (a correct
// candidate passes, one that ignores the segment rule fails). Without a CUDA build or a CUDA
// device the GPU tests skip with a message.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/cuda.h>

#include <cmath>
#include <functional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "omnirm/core/error.h"
#include "omnirm/ops/attention.h"

#include "kernels/attention_rule.h"
#include "kernels/gpu_skip.h"
#include "support/torch_error.h"

#ifdef OMNIRM_WITH_CUDA
#include "omnirm/ops/pair_attention_cuda.h"
#endif

namespace {

using omnirm::ops::AttentionLayout;
using namespace omnirm::testing;

// The rule on the CPU, with sdpa (fused, fp32 accumulation) as a correct candidate and an
// attention that lets chosen and rejected see each other as a wrong one.
TEST(PairAttentionFlashRule, SeparatesCorrectFromWrongOnCpu) {
  Rows rows;
  rows.add({{0, 9}, {1, 7}, {2, 6}});
  rows.add({{0, 1}, {1, 2}, {2, 3}});
  const at::Device cpu(at::kCPU);
  const Problem problem = make_problem(rows, 2, 2, 16, cpu, 21);
  const AttentionLayout& layout = problem.layout;
  // The same rows with one segment code: plain causal attention over the whole row.
  std::vector<int8_t> merged(rows.segments.size(), 0);
  const AttentionLayout causal = omnirm::ops::make_attention_layout(rows.offsets, merged, cpu);

  const auto reference = [&](const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
    return omnirm::ops::attention_reference(q, k, v, layout);
  };
  const auto naive = [&](const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
    return naive_attention(q, k, v, layout);
  };
  const auto sdpa = [&](const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
    return omnirm::ops::attention_sdpa(q, k, v, layout);
  };
  const auto wrong = [&](const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
    return omnirm::ops::attention_sdpa(q, k, v, causal);
  };
  const Result truth =
      run(reference, problem.q, problem.k, problem.v, problem.grad_out, at::kFloat, cpu);
  const Result baseline =
      run(naive, problem.q, problem.k, problem.v, problem.grad_out, at::kBFloat16, cpu);
  const Result good =
      run(sdpa, problem.q, problem.k, problem.v, problem.grad_out, at::kBFloat16, cpu);
  const Result bad =
      run(wrong, problem.q, problem.k, problem.v, problem.grad_out, at::kBFloat16, cpu);
  EXPECT_GT(max_error(baseline.out, truth.out), 0.0) << "the naive baseline is not in bf16";
  const std::vector<std::string> good_failures = flash_rule_failures(good, baseline, truth);
  EXPECT_TRUE(good_failures.empty()) << good_failures.front();
  EXPECT_EQ(flash_rule_failures(bad, baseline, truth).size(), 4u);
}

#ifdef OMNIRM_WITH_CUDA

// (dtype, head dim, query heads per key/value head)
using KernelCase = std::tuple<at::ScalarType, int64_t, int64_t>;

std::string case_name(const ::testing::TestParamInfo<KernelCase>& info) {
  const auto& [dtype, head_dim, group] = info.param;
  return std::string(dtype == at::kBFloat16 ? "bf16" : "fp16") + "_d" + std::to_string(head_dim) +
         "_gqa" + std::to_string(group);
}

// The op against the naive same-precision attention and the fp32 reference on CUDA device 0.
std::vector<std::string> check_against_reference(const Rows& rows, at::ScalarType dtype,
                                                 int64_t head_dim, int64_t group, uint64_t seed) {
  at::globalContext().setAllowTF32CuBLAS(false);
  const at::Device device(at::kCUDA, 0);
  const Problem problem = make_problem(rows, 2, group, head_dim, device, seed);
  const AttentionLayout& layout = problem.layout;
  const auto kernel = [&](const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
    return omnirm::ops::cuda::pair_attention_cuda(q, k, v, layout.row_offsets, layout.segments,
                                                  layout.max_row_length);
  };
  return check_flash_rule(kernel, problem, dtype, device);
}

class PairAttentionCudaTest : public ::testing::TestWithParam<KernelCase> {};

TEST_P(PairAttentionCudaTest, MixedRowsMeetTheFlashRule) {
  OMNIRM_SKIP_WITHOUT_GPU();
  const auto& [dtype, head_dim, group] = GetParam();
  for (const std::string& failure :
       check_against_reference(mixed_rows(), dtype, head_dim, group, 100 + head_dim + group)) {
    ADD_FAILURE() << failure;
  }
}

INSTANTIATE_TEST_SUITE_P(AllShapes, PairAttentionCudaTest,
                         ::testing::Combine(::testing::Values(at::kBFloat16, at::kHalf),
                                            ::testing::Values<int64_t>(64, 128),
                                            ::testing::Values<int64_t>(1, 2, 4)),
                         case_name);

// One long pair-prefix row and one plain causal row: many tiles of every kind per CTA.
TEST(PairAttentionCuda, LongRowsMeetTheFlashRule) {
  OMNIRM_SKIP_WITHOUT_GPU();
  Rows rows;
  rows.add({{0, 1700}, {1, 413}, {2, 387}});
  rows.add({{0, 1999}});
  for (const std::string& failure : check_against_reference(rows, at::kBFloat16, 128, 2, 7)) {
    ADD_FAILURE() << failure;
  }
}

// ops::pair_attention's cuda and automatic backends run the op for bf16 / fp16 inputs with d 64
// or 128 (same bits, once the self-test has passed); for anything else (fp32 here, and d = 32)
// automatic runs sdpa and cuda stops naming what the kernels do not serve.
TEST(PairAttentionCuda, BackendDispatch) {
  OMNIRM_SKIP_WITHOUT_GPU();
  using omnirm::ops::AttentionBackend;
  const at::Device device(at::kCUDA, 0);
  Rows rows;
  rows.add({{0, 40}, {1, 20}, {2, 25}});
  const Problem problem = make_problem(rows, 2, 2, 64, device, 3);
  const AttentionLayout& layout = problem.layout;
  const at::Tensor q = problem.q.to(device, at::kBFloat16);
  const at::Tensor k = problem.k.to(device, at::kBFloat16);
  const at::Tensor v = problem.v.to(device, at::kBFloat16);
  EXPECT_TRUE(omnirm::ops::cuda::pair_attention_cuda_supports(q, k, v));
  const at::Tensor direct = omnirm::ops::cuda::pair_attention_cuda(
      q, k, v, layout.row_offsets, layout.segments, layout.max_row_length);
  EXPECT_TRUE(
      at::equal(omnirm::ops::pair_attention(q, k, v, layout, AttentionBackend::cuda), direct));
  EXPECT_TRUE(
      at::equal(omnirm::ops::pair_attention(q, k, v, layout, AttentionBackend::automatic), direct));

  const at::Tensor q32 = problem.q.to(device);
  const at::Tensor k32 = problem.k.to(device);
  const at::Tensor v32 = problem.v.to(device);
  EXPECT_FALSE(omnirm::ops::cuda::pair_attention_cuda_supports(q32, k32, v32));
  EXPECT_TRUE(
      at::equal(omnirm::ops::pair_attention(q32, k32, v32, layout, AttentionBackend::automatic),
                omnirm::ops::attention_sdpa(q32, k32, v32, layout)));
  EXPECT_THROW(omnirm::ops::pair_attention(q32, k32, v32, layout, AttentionBackend::cuda),
               omnirm::UserError);
  const at::Tensor q_small = q.narrow(2, 0, 32).contiguous();
  const at::Tensor k_small = k.narrow(2, 0, 32).contiguous();
  const at::Tensor v_small = v.narrow(2, 0, 32).contiguous();
  EXPECT_FALSE(omnirm::ops::cuda::pair_attention_cuda_supports(q_small, k_small, v_small));
  EXPECT_EQ(
      omnirm::ops::pair_attention(q_small, k_small, v_small, layout, AttentionBackend::automatic)
          .size(2),
      32);
}

// Tensors the op cannot take are refused with a message naming what is wrong.
TEST(PairAttentionCuda, RejectsBadInputs) {
  OMNIRM_SKIP_WITHOUT_GPU();
  const at::Device device(at::kCUDA, 0);
  Rows rows;
  rows.add({{0, 10}, {1, 6}});
  const Problem problem = make_problem(rows, 2, 1, 64, device, 5);
  const AttentionLayout& layout = problem.layout;
  const at::Tensor q = problem.q.to(device, at::kHalf);
  const at::Tensor k = problem.k.to(device, at::kHalf);
  const at::Tensor v = problem.v.to(device, at::kHalf);
  using omnirm::ops::cuda::pair_attention_cuda;
  EXPECT_NE(omnirm::testing::torch_error_of([&] {
              pair_attention_cuda(q.to(at::kFloat), k, v, layout.row_offsets, layout.segments,
                                  layout.max_row_length);
            }).find("bfloat16 or float16"),
            std::string::npos);
  EXPECT_NE(omnirm::testing::torch_error_of([&] {
              pair_attention_cuda(q, k, v, layout.row_offsets.to(at::kInt), layout.segments,
                                  layout.max_row_length);
            }).find("row_offsets"),
            std::string::npos);
  EXPECT_NE(omnirm::testing::torch_error_of([&] {
              pair_attention_cuda(q, k, v, layout.row_offsets, layout.segments.cpu(),
                                  layout.max_row_length);
            }).find("segments"),
            std::string::npos);
  EXPECT_NE(omnirm::testing::torch_error_of([&] {
              pair_attention_cuda(q, k, v, layout.row_offsets, layout.segments, 0);
            }).find("max_row_length"),
            std::string::npos);
}

#endif  // OMNIRM_WITH_CUDA

}  // namespace
