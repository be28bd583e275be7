// Category-based benchmark scores against hand-computed cases: strict r(chosen) > r(rejected)
// (m = 0 wrong), VL-RewardBench / Multimodal RewardBench overall and macro, RewardBench
// sections weighted by the official subset sizes, and the flat metric names.
#include "omnirm/eval/category_report.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "support/test_support.h"

namespace {

using omnirm::eval::PairResult;

PairResult pair(const std::string& category, double reward1, double reward2) {
  return PairResult{"id", "ti2t", reward1, reward2, 1, category};
}

TEST(CategoryReport, VlRewardBenchOverallAndMacro) {
  // general: 2/3 right (m = 0 wrong); hallucination: 1/1; reasoning: 0/2.
  const std::vector<PairResult> results = {
      pair("general", 1.0, 0.0),       pair("general", 0.5, 0.2),   pair("general", 0.3, 0.3),
      pair("hallucination", 2.0, 1.0), pair("reasoning", 0.0, 1.0), pair("reasoning", -1.0, 0.0)};
  const auto report = omnirm::eval::score_by_category("vl-rewardbench", results);
  ASSERT_EQ(report.categories.size(), 3u);
  EXPECT_EQ(report.categories.at("general").correct, 2);
  EXPECT_EQ(report.categories.at("reasoning").pairs, 2);
  ASSERT_EQ(report.headline.size(), 2u);
  EXPECT_EQ(report.headline[0].first, "overall");
  EXPECT_DOUBLE_EQ(report.headline[0].second, 3.0 / 6.0);
  EXPECT_EQ(report.headline[1].first, "macro");
  EXPECT_DOUBLE_EQ(report.headline[1].second, (2.0 / 3.0 + 1.0 + 0.0) / 3.0);
  const auto metrics = omnirm::eval::category_metrics(report);
  EXPECT_DOUBLE_EQ(metrics.at("category/hallucination"), 1.0);
  EXPECT_DOUBLE_EQ(metrics.at("macro"), (2.0 / 3.0 + 1.0) / 3.0);
}

TEST(CategoryReport, RewardBenchSectionsWeightedByOfficialSizes) {
  // Chat: alpacaeval-easy 1/1 (weight 100), mt-bench-easy 0/1 (weight 28).
  // Reasoning: math-prm 1/2 (weight 984), hep-go 1/1 (weight 164).
  // Safety: donotanswer 0/1. Chat Hard absent. "custom" belongs to no section.
  const std::vector<PairResult> results = {
      pair("alpacaeval-easy", 1.0, 0.0), pair("mt-bench-easy", 0.0, 1.0),
      pair("math-prm", 1.0, 0.0),        pair("math-prm", 0.0, 0.0),
      pair("hep-go", 3.0, 1.0),          pair("donotanswer", -2.0, 1.0),
      pair("custom", 1.0, 0.0)};
  const auto report = omnirm::eval::score_by_category("rewardbench", results);
  ASSERT_EQ(report.sections.size(), 3u);
  EXPECT_EQ(report.sections[0].first, "Chat");
  EXPECT_DOUBLE_EQ(report.sections[0].second, 100.0 / 128.0);
  EXPECT_EQ(report.sections[1].first, "Safety");
  EXPECT_DOUBLE_EQ(report.sections[1].second, 0.0);
  EXPECT_EQ(report.sections[2].first, "Reasoning");
  EXPECT_DOUBLE_EQ(report.sections[2].second, (0.5 * 984.0 + 164.0) / (984.0 + 164.0));
  ASSERT_EQ(report.headline.size(), 1u);
  EXPECT_DOUBLE_EQ(report.headline[0].second,
                   (100.0 / 128.0 + 0.0 + (0.5 * 984.0 + 164.0) / 1148.0) / 3.0);
  EXPECT_DOUBLE_EQ(report.categories.at("custom").value(), 1.0);
  EXPECT_EQ(omnirm::eval::rewardbench_section("llmbar-adver-GPTOut"), "Chat Hard");
  const auto metrics = omnirm::eval::category_metrics(report);
  EXPECT_DOUBLE_EQ(metrics.at("section/chat"), 100.0 / 128.0);
  EXPECT_EQ(metrics.count("section/chat_hard"), 0u);
}

TEST(CategoryReport, GoldTiesLeftOutAndUnknownBenchmarkRefused) {
  std::vector<PairResult> results = {pair("vqa", 1.0, 0.0), pair("vqa", 0.0, 1.0)};
  results[1].gold = 0;
  const auto report = omnirm::eval::score_by_category("multimodal-rewardbench", results);
  EXPECT_EQ(report.categories.at("vqa").pairs, 1);
  EXPECT_DOUBLE_EQ(report.headline[0].second, 1.0);
  EXPECT_NE(omnirm::testing::user_error_of([&] {
              omnirm::eval::score_by_category("omni-rewardbench", results);
            }).find("not scored by category"),
            std::string::npos);
}

TEST(CategoryReport, WritesTheOutputFiles) {
  const std::string dir = omnirm::testing::make_temp_dir("category-report");
  const std::vector<PairResult> results = {pair("general", 1.0, 0.0)};
  const auto report = omnirm::eval::score_by_category("vl-rewardbench", results);
  omnirm::eval::write_category_outputs(dir, results, report, {1, 1, {}});
  for (const char* name : {"scores.jsonl", "report.json", "report.md", "accuracy.png"}) {
    EXPECT_TRUE(std::filesystem::exists(dir + "/" + name)) << name;
  }
  EXPECT_NE(omnirm::testing::read_file(dir + "/scores.jsonl").find("\"category\":\"general\""),
            std::string::npos);
}

}  // namespace
