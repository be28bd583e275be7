// Omni-RewardBench metrics against hand-computed cases.
#include <gtest/gtest.h>

#include "omnirm/eval/bench_metrics.h"

namespace {

using omnirm::eval::ScoredPair;

TEST(BenchMetrics, WithoutTiesDropsGoldTiesAndCountsZeroMarginAsWrong) {
  const std::vector<ScoredPair> pairs = {
      {"t2t", 2.0, 1}, {"t2t", -1.0, -1}, {"t2t", 0.0, 1}, {"t2t", 0.5, -1}, {"t2t", 3.0, 0}};
  const auto a = omnirm::eval::accuracy_without_ties(pairs);
  EXPECT_EQ(a.pairs, 4);
  EXPECT_DOUBLE_EQ(a.value, 0.5);  // right: 2.0/+1, -1.0/-1; wrong: m=0, 0.5/-1
}

TEST(BenchMetrics, WithTiesAtAThreshold) {
  const std::vector<ScoredPair> pairs = {
      {"t", 0.1, 0}, {"t", -0.2, 0}, {"t", 0.3, 1}, {"t", -2.0, -1}, {"t", 1.0, -1}};
  // ε = 0.2: ties predicted for |m| <= 0.2 → both gold ties right; 0.3/+1 right; -2/-1 right.
  EXPECT_DOUBLE_EQ(omnirm::eval::accuracy_with_ties(pairs, 0.2), 4.0 / 5.0);
  // ε < 0: no tie predicted → the two gold ties are wrong.
  EXPECT_DOUBLE_EQ(omnirm::eval::accuracy_with_ties(pairs, -1.0), 2.0 / 5.0);
  // ε = 0.3 also calls the 0.3/+1 pair a tie: wrong.
  EXPECT_DOUBLE_EQ(omnirm::eval::accuracy_with_ties(pairs, 0.3), 3.0 / 5.0);
}

TEST(BenchMetrics, SweepFindsTheBestThreshold) {
  const std::vector<ScoredPair> pairs = {
      {"t", 0.1, 0}, {"t", -0.2, 0}, {"t", 0.3, 1}, {"t", -2.0, -1}, {"t", 1.0, -1}};
  const auto best = omnirm::eval::calibrate_ties(pairs);
  EXPECT_DOUBLE_EQ(best.threshold, 0.2);
  EXPECT_DOUBLE_EQ(best.accuracy, 0.8);
}

TEST(BenchMetrics, SweepKeepsTheThresholdBelowTheSmallestMargin) {
  // No gold ties and every sign right: predicting any tie only loses.
  const std::vector<ScoredPair> pairs = {{"t", 0.5, 1}, {"t", -0.7, -1}, {"t", 2.0, 1}};
  const auto best = omnirm::eval::calibrate_ties(pairs);
  EXPECT_DOUBLE_EQ(best.threshold, -1.0);
  EXPECT_DOUBLE_EQ(best.accuracy, 1.0);
}

TEST(BenchMetrics, ATaskOfOnlyTies) {
  const std::vector<ScoredPair> pairs = {{"t2a", 0.4, 0}, {"t2a", -0.1, 0}};
  const auto best = omnirm::eval::calibrate_ties(pairs);
  EXPECT_DOUBLE_EQ(best.threshold, 0.4);
  EXPECT_DOUBLE_EQ(best.accuracy, 1.0);
  const auto report = omnirm::eval::score_benchmark(pairs);
  EXPECT_EQ(report.tasks.at("t2a").without_ties.pairs, 0);
  EXPECT_DOUBLE_EQ(report.overall_with_ties, 1.0);
  EXPECT_DOUBLE_EQ(report.overall_without_ties, 0.0);  // no task with a non-tie
}

TEST(BenchMetrics, MacroAverageOverSupportedTasksAndHeldOutThreshold) {
  const std::vector<ScoredPair> pairs = {
      // t2t: w/o ties 1/2; best ε = 0.1 → (tie right + 1.0/+1 right) / 3.
      {"t2t", 0.1, 0},
      {"t2t", 1.0, 1},
      {"t2t", -0.5, 1},
      // t2i: w/o ties 1; best ε: none (−1) → 2/2.
      {"t2i", 0.6, 1},
      {"t2i", -0.9, -1},
      // t2a: unsupported, must not count.
      {"t2a", -5.0, 1}};
  const auto report = omnirm::eval::score_benchmark(pairs, {"t2t", "t2i"});
  ASSERT_EQ(report.tasks.size(), 2u);
  EXPECT_DOUBLE_EQ(report.tasks.at("t2t").without_ties.value, 0.5);
  EXPECT_DOUBLE_EQ(report.tasks.at("t2t").with_ties.threshold, 0.1);
  EXPECT_DOUBLE_EQ(report.tasks.at("t2t").with_ties.accuracy, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(report.tasks.at("t2i").with_ties.accuracy, 1.0);
  EXPECT_DOUBLE_EQ(report.overall_without_ties, 0.75);
  EXPECT_DOUBLE_EQ(report.overall_with_ties, (2.0 / 3.0 + 1.0) / 2.0);
  // Held out: t2t gets t2i's threshold (−1: no ties) → 1/3; t2i gets t2t's (0.1) → 2/2.
  EXPECT_DOUBLE_EQ(report.tasks.at("t2t").held_out_threshold, -1.0);
  EXPECT_DOUBLE_EQ(report.tasks.at("t2t").with_ties_held_out, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(report.tasks.at("t2i").held_out_threshold, 0.1);
  EXPECT_DOUBLE_EQ(report.tasks.at("t2i").with_ties_held_out, 1.0);
  EXPECT_DOUBLE_EQ(report.overall_with_ties_held_out, (1.0 / 3.0 + 1.0) / 2.0);
}

}  // namespace

namespace {

TEST(BenchMetrics, ZeroMarginsAtTheSweepsLowestThreshold) {
  // A gold tie and a non-tie both with m = 0 exactly. Below the smallest |m| (ε = −1) no tie
  // is predicted: both wrong. At ε = 0 both are predicted ties: the gold tie becomes right,
  // the non-tie stays wrong; the 1.5/+1 pair stays right either way.
  const std::vector<ScoredPair> pairs = {{"t", 0.0, 0}, {"t", 0.0, 1}, {"t", 1.5, 1}};
  EXPECT_DOUBLE_EQ(omnirm::eval::accuracy_with_ties(pairs, -1.0), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(omnirm::eval::accuracy_with_ties(pairs, 0.0), 2.0 / 3.0);
  const auto best = omnirm::eval::calibrate_ties(pairs);
  EXPECT_DOUBLE_EQ(best.threshold, 0.0);
  EXPECT_DOUBLE_EQ(best.accuracy, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(omnirm::eval::accuracy_without_ties(pairs).value, 0.5);
}

}  // namespace
