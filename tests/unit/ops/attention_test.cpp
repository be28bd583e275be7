// Pair-prefix attention: the segment mask, the backends against each other, and the rows of
// the pair-prefix layout against the same rows run as separate sequences.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

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

}  // namespace
