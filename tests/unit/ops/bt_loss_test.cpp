// The BT loss against an fp64 reference written out by hand: values and gradients, margins,
// centering, and reward gaps of ±1e4.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/autograd.h>

#include <cmath>

#include "omnirm/ops/bt_loss.h"

namespace {

// -log σ(x) in long double, the straightforward formula on the stable branch.
long double neg_log_sigmoid(long double x) {
  return x >= 0 ? std::log1p(std::exp(-x)) : -x + std::log1p(std::exp(x));
}
long double sigmoid(long double x) { return 1.0L / (1.0L + std::exp(-x)); }

struct Reference {
  double loss;
  std::vector<double> grad_chosen, grad_rejected;
};

Reference reference(const std::vector<double>& c, const std::vector<double>& r,
                    const std::vector<double>& m, double lambda) {
  const size_t n = c.size();
  Reference ref{0.0, std::vector<double>(n), std::vector<double>(n)};
  long double loss = 0;
  for (size_t i = 0; i < n; ++i) {
    const long double gap = (long double)c[i] - r[i] - m[i];
    const long double sum = (long double)c[i] + r[i];
    loss += neg_log_sigmoid(gap) / n + lambda * sum * sum / n;
    const long double g = -sigmoid(-gap) / n;  // d/dgap of -log σ(gap) / n
    ref.grad_chosen[i] = double(g + 2 * lambda * sum / n);
    ref.grad_rejected[i] = double(-g + 2 * lambda * sum / n);
  }
  ref.loss = double(loss);
  return ref;
}

void check_against_reference(const std::vector<double>& c, const std::vector<double>& r,
                             const std::vector<double>& m, double lambda) {
  at::Tensor tc = at::tensor(c, at::kDouble).requires_grad_(true);
  at::Tensor tr = at::tensor(r, at::kDouble).requires_grad_(true);
  at::Tensor tm = at::tensor(m, at::kDouble);
  at::Tensor loss = omnirm::ops::bt_loss(tc, tr, tm, lambda);
  loss.backward();
  const Reference ref = reference(c, r, m, lambda);
  EXPECT_NEAR(loss.item<double>(), ref.loss, 1e-12 * std::max(1.0, std::abs(ref.loss)));
  for (size_t i = 0; i < c.size(); ++i) {
    EXPECT_NEAR(tc.grad()[i].item<double>(), ref.grad_chosen[i], 1e-12) << "pair " << i;
    EXPECT_NEAR(tr.grad()[i].item<double>(), ref.grad_rejected[i], 1e-12) << "pair " << i;
  }
}

TEST(BtLoss, MatchesReferenceWithoutMarginOrCentering) {
  check_against_reference({1.5, -0.25, 0.0, 3.0}, {0.5, 0.75, 0.0, -2.0}, {0, 0, 0, 0}, 0.0);
}

TEST(BtLoss, MatchesReferenceWithMarginAndCentering) {
  check_against_reference({1.5, -0.25, 0.3}, {0.5, 0.75, 0.1}, {0.5, 1.0, -0.2}, 0.01);
}

TEST(BtLoss, StableForHugeRewardGaps) {
  check_against_reference({1e4, -1e4, 5e3}, {-1e4, 1e4, 5e3}, {0, 0, 0}, 0.0);
  at::Tensor c = at::tensor(std::vector<float>{1e4f, -1e4f}).requires_grad_(true);
  at::Tensor r = at::tensor(std::vector<float>{-1e4f, 1e4f}).requires_grad_(true);
  at::Tensor loss = omnirm::ops::bt_loss(c, r, at::Tensor(), 0.0);
  loss.backward();
  ASSERT_TRUE(std::isfinite(loss.item<float>()));
  EXPECT_NEAR(loss.item<float>(), 1e4f, 1.0f);  // (0 + 2e4) / 2
  EXPECT_TRUE(at::isfinite(c.grad()).all().item<bool>());
  EXPECT_NEAR(c.grad()[1].item<float>(), -0.5f, 1e-6f);
  EXPECT_NEAR(c.grad()[0].item<float>(), 0.0f, 1e-6f);
}

TEST(BtLoss, GradientsMatchFiniteDifferences) {
  const std::vector<double> c = {0.7, -1.2, 0.05}, r = {0.1, 0.4, -0.3}, m = {0.2, 0.0, 0.1};
  at::Tensor tc = at::tensor(c, at::kDouble).requires_grad_(true);
  at::Tensor tr = at::tensor(r, at::kDouble);
  omnirm::ops::bt_loss(tc, tr, at::tensor(m, at::kDouble), 0.05).backward();
  const double h = 1e-6;
  for (size_t i = 0; i < c.size(); ++i) {
    std::vector<double> up = c, down = c;
    up[i] += h;
    down[i] -= h;
    const double numeric =
        (reference(up, r, m, 0.05).loss - reference(down, r, m, 0.05).loss) / (2 * h);
    EXPECT_NEAR(tc.grad()[i].item<double>(), numeric, 1e-8);
  }
}

TEST(BtLoss, RejectsMismatchedShapes) {
  EXPECT_THROW(omnirm::ops::bt_loss(at::zeros({3}), at::zeros({2}), at::Tensor(), 0.0), c10::Error);
  EXPECT_THROW(omnirm::ops::bt_loss(at::zeros({0}), at::zeros({0}), at::Tensor(), 0.0), c10::Error);
}

}  // namespace
