// Pair-prefix attention: the segment mask, the backends against each other, the rows of the
// pair-prefix layout against the same rows run as separate sequences, the allowed-pair count
// and the backend choice (the cuda backend falls back to sdpa where its kernels do not apply).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <torch/csrc/autograd/autograd.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "omnirm/core/error.h"
#include "omnirm/ops/attention.h"

namespace {

using omnirm::ops::AttentionLayout;
using omnirm::ops::make_attention_layout;

// Plain causal attention of one sequence, written with explicit loops in fp64.
at::Tensor naive_causal(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  const int64_t n = q.size(0), hq = q.size(1), hk = k.size(1), d = q.size(2);
  at::Tensor out = at::zeros({n, hq, d}, at::kDouble);
  auto qa = q.to(at::kDouble), ka = k.to(at::kDouble), va = v.to(at::kDouble);
  for (int64_t h = 0; h < hq; ++h) {
    const int64_t kv = h / (hq / hk);
    for (int64_t i = 0; i < n; ++i) {
      at::Tensor scores =
          at::matmul(ka.narrow(0, 0, i + 1).select(1, kv), qa[i][h]) / std::sqrt(double(d));
      at::Tensor p = at::softmax(scores, 0);
      out[i][h] = at::matmul(p, va.narrow(0, 0, i + 1).select(1, kv));
    }
  }
  return out;
}

TEST(AttentionLayout, MaskFollowsTheSegmentRule) {
  // One row: prompt 2, chosen 2, rejected 2.
  const AttentionLayout layout =
      make_attention_layout({0, 6}, {0, 0, 1, 1, 2, 2}, at::Device(at::kCPU));
  auto allowed = layout.allowed[0][0];
  const bool expected[6][6] = {{1, 0, 0, 0, 0, 0}, {1, 1, 0, 0, 0, 0}, {1, 1, 1, 0, 0, 0},
                               {1, 1, 1, 1, 0, 0}, {1, 1, 0, 0, 1, 0}, {1, 1, 0, 0, 1, 1}};
  for (int i = 0; i < 6; ++i) {
    for (int j = 0; j < 6; ++j) {
      EXPECT_EQ(allowed[i][j].item<bool>(), expected[i][j]) << "query " << i << " key " << j;
    }
  }
}

TEST(AttentionLayout, RejectsInconsistentOffsets) {
  EXPECT_THROW(make_attention_layout({0, 3}, {0, 0}, at::Device(at::kCPU)), c10::Error);
  EXPECT_THROW(make_attention_layout({0, 0, 2}, {0, 0}, at::Device(at::kCPU)), c10::Error);
}

class PairAttention : public ::testing::TestWithParam<omnirm::ops::AttentionBackend> {};

TEST_P(PairAttention, EqualsSeparateCausalSequences) {
  at::manual_seed(7);
  // Two pairs packed in two rows: (P=3, C=2, R=4) and (P=1, C=1, R=1).
  const std::vector<int64_t> offsets = {0, 9, 12};
  const std::vector<int8_t> segments = {0, 0, 0, 1, 1, 2, 2, 2, 2, 0, 1, 2};
  const AttentionLayout layout = make_attention_layout(offsets, segments, at::Device(at::kCPU));
  const int64_t hq = 4, hk = 2, d = 8;
  at::Tensor q = at::randn({12, hq, d}, at::kDouble);
  at::Tensor k = at::randn({12, hk, d}, at::kDouble);
  at::Tensor v = at::randn({12, hk, d}, at::kDouble);
  at::Tensor out = omnirm::ops::pair_attention(q, k, v, layout, GetParam());

  auto sequence = [&](std::vector<int64_t> rows) {
    at::Tensor index = at::tensor(rows, at::kLong);
    return naive_causal(q.index_select(0, index), k.index_select(0, index),
                        v.index_select(0, index));
  };
  // Pair 1: chosen = prompt + chosen; rejected = prompt + rejected.
  at::Tensor chosen_seq = sequence({0, 1, 2, 3, 4});
  at::Tensor rejected_seq = sequence({0, 1, 2, 5, 6, 7, 8});
  EXPECT_TRUE(at::allclose(out.narrow(0, 0, 5), chosen_seq, 1e-10, 1e-10));
  EXPECT_TRUE(at::allclose(out.narrow(0, 5, 4), rejected_seq.narrow(0, 3, 4), 1e-10, 1e-10));
  at::Tensor second_rejected = sequence({9, 11});
  EXPECT_TRUE(at::allclose(out[11], second_rejected[1], 1e-10, 1e-10));
}

TEST_P(PairAttention, GradientsFlowAndAreFinite) {
  at::manual_seed(3);
  const AttentionLayout layout =
      make_attention_layout({0, 5, 7}, {0, 0, 1, 2, 2, 0, 1}, at::Device(at::kCPU));
  at::Tensor q = at::randn({7, 2, 4}).requires_grad_(true);
  at::Tensor k = at::randn({7, 1, 4}).requires_grad_(true);
  at::Tensor v = at::randn({7, 1, 4}).requires_grad_(true);
  omnirm::ops::pair_attention(q, k, v, layout, GetParam()).sum().backward();
  for (const at::Tensor& t : {q, k, v}) {
    ASSERT_TRUE(t.grad().defined());
    EXPECT_TRUE(at::isfinite(t.grad()).all().item<bool>());
    EXPECT_GT(t.grad().abs().sum().item<float>(), 0.0f);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, PairAttention,
                         ::testing::Values(omnirm::ops::AttentionBackend::reference,
                                           omnirm::ops::AttentionBackend::sdpa));

TEST(PairAttention, SdpaMatchesReferenceInFloat32) {
  at::manual_seed(11);
  const AttentionLayout layout = make_attention_layout(
      {0, 10, 16}, {0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 0, 0, 1, 1, 2, 2}, at::Device(at::kCPU));
  at::Tensor q = at::randn({16, 4, 16}), k = at::randn({16, 2, 16}), v = at::randn({16, 2, 16});
  at::Tensor a = omnirm::ops::attention_reference(q, k, v, layout);
  at::Tensor b = omnirm::ops::attention_sdpa(q, k, v, layout);
  EXPECT_LT((a - b).abs().max().item<float>(), 1e-5f);
}

// The allowed pairs counted from the segment table equal the entries of the dense mask
// (padding queries left out) and the closed form of the pair-prefix layout.
TEST(AttentionAllowedPairs, MatchesTheDenseMaskAndTheClosedForm) {
  // Rows: pair-prefix (P=5, C=3, R=4); naive prompt + rejected (P=2, R=6); prompt only (7);
  // one token; and a row with unknown codes 5 and -1 after its prompt.
  std::vector<int64_t> offsets = {0};
  std::vector<int8_t> segments;
  const auto add_row = [&](std::vector<std::pair<int8_t, int>> runs) {
    for (const auto& [code, count] : runs) {
      segments.insert(segments.end(), count, code);
    }
    offsets.push_back(static_cast<int64_t>(segments.size()));
  };
  add_row({{0, 5}, {1, 3}, {2, 4}});
  add_row({{0, 2}, {2, 6}});
  add_row({{0, 7}});
  add_row({{1, 1}});
  add_row({{0, 3}, {5, 2}, {-1, 3}, {5, 1}});
  const AttentionLayout layout = make_attention_layout(offsets, segments, at::Device(at::kCPU));

  int64_t dense = 0;
  for (int64_t r = 0; r < layout.rows; ++r) {
    const int64_t length = offsets[r + 1] - offsets[r];
    dense += layout.allowed[r][0].narrow(0, 0, length).sum().item<int64_t>();
  }
  const int64_t counted = omnirm::ops::attention_allowed_pairs(offsets, segments);
  EXPECT_EQ(counted, dense);

  const auto triangle = [](int64_t n) { return n * (n + 1) / 2; };
  const int64_t closed_form = (triangle(5) + 3 * 5 + triangle(3) + 4 * 5 + triangle(4)) +
                              (triangle(2) + 6 * 2 + triangle(6)) + triangle(7) + 1 +
                              (triangle(3) + 2 * 3 + triangle(2) + 3 * 3 + triangle(3) + (3 + 3));
  EXPECT_EQ(counted, closed_form);
}

TEST(AttentionBackendChoice, AutoAndCuda) {
  using omnirm::ops::AttentionBackend;
  using omnirm::ops::resolve_attention_backend;
  EXPECT_EQ(resolve_attention_backend("auto", c10::DeviceType::CPU), AttentionBackend::sdpa);
#ifdef OMNIRM_WITH_CUDA
  EXPECT_EQ(resolve_attention_backend("auto", c10::DeviceType::CUDA), AttentionBackend::automatic);
  EXPECT_EQ(resolve_attention_backend("cuda", c10::DeviceType::CUDA), AttentionBackend::cuda);
#else
  EXPECT_EQ(resolve_attention_backend("auto", c10::DeviceType::CUDA), AttentionBackend::sdpa);
#endif
  try {
    resolve_attention_backend("cuda", c10::DeviceType::CPU);
    ADD_FAILURE() << "cuda on CPU tensors was accepted";
  } catch (const omnirm::UserError& error) {
    EXPECT_NE(std::string(error.what()).find("model.attention_backend"), std::string::npos);
  }
}

// The automatic backend on inputs no fused kernel takes (here CPU tensors) is the sdpa
// backend, gradients included.
TEST(PairAttention, AutomaticBackendIsSdpaOnCpu) {
  at::manual_seed(5);
  const AttentionLayout layout =
      make_attention_layout({0, 7, 10}, {0, 0, 0, 1, 1, 2, 2, 0, 1, 1}, at::Device(at::kCPU));
  const at::Tensor q = at::randn({10, 4, 8}).requires_grad_(true);
  const at::Tensor k = at::randn({10, 2, 8}).requires_grad_(true);
  const at::Tensor v = at::randn({10, 2, 8}).requires_grad_(true);
  const at::Tensor automatic =
      omnirm::ops::pair_attention(q, k, v, layout, omnirm::ops::AttentionBackend::automatic);
  const at::Tensor reference = omnirm::ops::attention_reference(q, k, v, layout);
  EXPECT_LT((automatic - reference).abs().max().item<float>(), 1e-5f);
  const std::vector<at::Tensor> grads = torch::autograd::grad({automatic.sum()}, {q, k, v});
  const std::vector<at::Tensor> reference_grads =
      torch::autograd::grad({reference.sum()}, {q, k, v});
  for (size_t i = 0; i < grads.size(); ++i) {
    EXPECT_LT((grads[i] - reference_grads[i]).abs().max().item<float>(), 1e-4f) << "input " << i;
  }
}

// The required cuda backend on inputs no fused kernel takes stops with one line naming the
// device, the dtype and the head size.
TEST(PairAttention, RequiredCudaBackendNamesWhatTheKernelsDoNotServe) {
  const AttentionLayout layout =
      make_attention_layout({0, 7, 10}, {0, 0, 0, 1, 1, 2, 2, 0, 1, 1}, at::Device(at::kCPU));
  const at::Tensor q = at::randn({10, 4, 8});
  const at::Tensor k = at::randn({10, 2, 8});
  try {
    omnirm::ops::pair_attention(q, k, k, layout, omnirm::ops::AttentionBackend::cuda);
    ADD_FAILURE() << "the required cuda backend ran on CPU fp32 tensors";
  } catch (const omnirm::UserError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("cpu"), std::string::npos) << message;
    EXPECT_NE(message.find("Float"), std::string::npos) << message;
    EXPECT_NE(message.find("head size 8"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

}  // namespace
