// Coverage of an evaluation: the line states both numbers, report.json gains items, scored
// and every unscored entry beside its metrics, report.md a paragraph and a table whose cells
// cannot break it.
#include "omnirm/eval/coverage.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace omnirm::eval {
namespace {

TEST(Coverage, TheLineStatesBothDenominators) {
  EXPECT_EQ(coverage_line({120, 120, {}}), "scored all 120 items");
  EXPECT_EQ(coverage_line({120, 118, {}}),
            "scored 118 of 120 items; 2 not scored, listed in report.json");
}

TEST(Coverage, ReportJsonKeepsItsMetricsAndGainsTheItems) {
  const Coverage coverage{3, 2, {{"p-7", "ti2t", "bench/ti2t.json:9", "image 'a.png' not found"}}};
  const nlohmann::json json =
      nlohmann::json::parse(add_coverage_json(R"({"overall": {"with_ties": 0.5}})", coverage));
  EXPECT_EQ(json["overall"]["with_ties"], 0.5);
  EXPECT_EQ(json["items"], 3);
  EXPECT_EQ(json["scored"], 2);
  ASSERT_EQ(json["unscored"].size(), 1u);
  EXPECT_EQ(json["unscored"][0]["id"], "p-7");
  EXPECT_EQ(json["unscored"][0]["task"], "ti2t");
  EXPECT_EQ(json["unscored"][0]["origin"], "bench/ti2t.json:9");
  EXPECT_EQ(json["unscored"][0]["reason"], "image 'a.png' not found");
}

TEST(Coverage, MarkdownTableCellsCannotBreakTheTable) {
  const Coverage coverage{2, 1, {{"a|b", "t2t", "x.jsonl:1", "line one\nline | two"}}};
  const std::string markdown = coverage_markdown(coverage);
  EXPECT_NE(markdown.find("Scored 1 of 2 items"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| a\\|b | t2t | x.jsonl:1 | line one line \\| two |"), std::string::npos)
      << markdown;
  EXPECT_EQ(coverage_markdown({5, 5, {}}).find("| not scored"), std::string::npos);
}

TEST(Coverage, AnUnreadableRecordKeepsItsOrigin) {
  const UnscoredEntry entry =
      unreadable_record("data/eval.jsonl:12: rejected: missing required field");
  EXPECT_EQ(entry.origin, "data/eval.jsonl:12");
  EXPECT_EQ(entry.reason, "rejected: missing required field");
  EXPECT_TRUE(entry.id.empty());
}

}  // namespace
}  // namespace omnirm::eval
