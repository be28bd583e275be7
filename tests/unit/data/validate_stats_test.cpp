// Tests of validate_pairs_file (every problem with file:line and field, media that are
// missing or resolve outside the root) and compute_stats (counts per task and modality,
// token percentiles, pairs the config would truncate or drop).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "data_test_support.h"
#include "omnirm/core/error.h"
#include "omnirm/data/pair_encoder.h"
#include "omnirm/data/stats.h"
#include "omnirm/data/validate.h"
#include "omnirm/text/chat_template.h"
#include "support/test_support.h"

namespace omnirm::data {
namespace {

using testing::pair_line;
using testing::write_lines;

std::string image_record(const std::string& id, const std::string& prompt_image,
                         const std::string& chosen_image = "") {
  const std::string chosen = chosen_image.empty() ? R"("A cat.")"
                                                  : R"({"content": [{"type": "image", "path": ")" +
                                                        chosen_image + R"("}]})";
  return R"({"id": ")" + id +
         R"(", "task": "ti2t", "prompt": [{"role": "user", "content": [{"type": "image", "path": ")" +
         prompt_image + R"("}, {"type": "text", "text": "What is it?"}]}], "chosen": )" + chosen +
         R"(, "rejected": "A dog."})";
}

std::vector<std::string> validate(const std::string& path, const ValidateOptions& options,
                                  ValidateSummary& summary) {
  std::vector<std::string> problems;
  summary = validate_pairs_file(path, options,
                                [&](const std::string& problem) { problems.push_back(problem); });
  return problems;
}

TEST(Validate, ReportsEveryProblemWithLineAndField) {
  const std::string dir = omnirm::testing::make_temp_dir("validate");
  omnirm::testing::write_file(dir + "/img/a.png", "png");
  const std::string outside = omnirm::testing::make_temp_dir("validate-outside");
  omnirm::testing::write_file(outside + "/secret.png", "png");
  std::filesystem::create_directory_symlink(outside, dir + "/img/escape");
  const std::string path =
      write_lines(dir, "pairs.jsonl",
                  {image_record("ok", "img/a.png"), image_record("missing", "img/missing.png"),
                   image_record("escape", "img/escape/secret.png"), R"({"id": "broken")",
                   pair_line("same", "Q?", "Yes.", "Yes."),
                   image_record("two", "img/gone.png", "img/also_gone.png")});

  ValidateSummary summary;
  const std::vector<std::string> problems = validate(path, {}, summary);
  EXPECT_EQ(summary.records, 6);
  EXPECT_EQ(summary.bad_records, 5);
  EXPECT_EQ(summary.problems, 6);
  ASSERT_EQ(problems.size(), 6u);
  EXPECT_EQ(
      problems[0].find(path + ":2: prompt[0].content[0].path: image 'img/missing.png' not found"),
      0u)
      << problems[0];
  EXPECT_EQ(problems[1].find(path + ":3: prompt[0].content[0].path: image 'img/escape/secret.png' "
                                    "resolves outside the root"),
            0u)
      << problems[1];
  EXPECT_EQ(problems[2].find(path + ":4: record: malformed JSON"), 0u) << problems[2];
  EXPECT_EQ(problems[3].find(path + ":5: rejected: identical to chosen"), 0u) << problems[3];
  EXPECT_EQ(problems[4].find(path + ":6: prompt[0].content[0].path"), 0u) << problems[4];
  EXPECT_EQ(problems[5].find(path + ":6: chosen.content[0].path: image 'img/also_gone.png'"), 0u)
      << problems[5];

  ValidateOptions records_only;
  records_only.check_media = false;
  EXPECT_EQ(validate(path, records_only, summary).size(), 2u);
  EXPECT_EQ(summary.media_checked, 0);

  // Another root where the media exist.
  const std::string other_root = omnirm::testing::make_temp_dir("validate-root");
  for (const char* name : {"img/missing.png", "img/gone.png", "img/also_gone.png"}) {
    omnirm::testing::write_file(other_root + "/" + name, "png");
  }
  ValidateOptions rooted;
  rooted.root = other_root;
  const std::vector<std::string> rooted_problems = validate(path, rooted, summary);
  ASSERT_EQ(rooted_problems.size(), 4u);  // a.png and escape/ are not under the other root
  EXPECT_NE(rooted_problems[0].find(":1: prompt[0].content[0].path: image 'img/a.png' not found"),
            std::string::npos);
  for (const std::string& scratch : {dir, outside, other_root})
    std::filesystem::remove_all(scratch);
}

TEST(Stats, PercentilesAreNearestRank) {
  std::vector<int32_t> values;
  for (int i = 100; i >= 1; --i) values.push_back(i);
  const LengthPercentiles p = percentiles(values);
  EXPECT_EQ(p.p50, 50);
  EXPECT_EQ(p.p90, 90);
  EXPECT_EQ(p.p99, 99);
  EXPECT_EQ(p.max, 100);
  EXPECT_DOUBLE_EQ(p.mean, 50.5);
  std::vector<int32_t> one = {7};
  EXPECT_EQ(percentiles(one).p50, 7);
  EXPECT_EQ(percentiles(one).p99, 7);
}

TEST(Stats, CountsLengthsAndWhatTheConfigWouldCut) {
  const std::string dir = omnirm::testing::make_temp_dir("stats");
  std::string long_prompt;
  for (int i = 0; i < 60; ++i) long_prompt += "the quiet river ";
  const std::vector<std::string> lines = {
      pair_line("a", "What colour is the sky?", "Blue.", "Green.", R"("criteria": "Be right.")"),
      pair_line("b", "Say hello.", "Hello there.", "Go away.", R"("preference": "tie")"),
      pair_line("c", long_prompt, "Yes.", "No.", R"("margin": 2.0)"),
      image_record("d", "img/a.png"),
      R"({"id": "e", "task": "t2i", "prompt": "Draw a cat.", "chosen": {"content": [{"type": "image", "path": "c.png"}]}, "rejected": {"content": [{"type": "image", "path": "r.png"}]}})",
      R"({"id": "bad")",
  };
  const std::string path = write_lines(dir, "pairs.jsonl", lines);
  DataConfig config;
  config.max_length = 64;
  config.truncation = "drop";

  const DataStats counts_only = compute_stats(path, nullptr, config);
  EXPECT_EQ(counts_only.records, 5);
  EXPECT_EQ(counts_only.bad, 1);
  EXPECT_EQ(counts_only.ties, 1);
  EXPECT_EQ(counts_only.with_margin, 1);
  EXPECT_EQ(counts_only.with_criteria, 1);
  EXPECT_EQ(counts_only.per_task.at("t2t"), 3);
  EXPECT_EQ(counts_only.per_task.at("ti2t"), 1);
  EXPECT_EQ(counts_only.per_task.at("t2i"), 1);
  EXPECT_EQ(counts_only.per_modality.at("text -> text"), 3);
  EXPECT_EQ(counts_only.per_modality.at("text+image -> text"), 1);
  EXPECT_EQ(counts_only.per_modality.at("text -> image"), 1);
  EXPECT_FALSE(counts_only.has_lengths);
  EXPECT_NE(format_stats(counts_only).find("need a tokenizer"), std::string::npos);

  const text::Tokenizer& tokenizer = testing::shared_tokenizer();
  const DataStats dropped = compute_stats(path, &tokenizer, config);
  ASSERT_TRUE(dropped.has_lengths);
  // The longest prompt, tokenized on its own through the template.
  const int64_t long_prompt_tokens = static_cast<int64_t>(
      tokenizer.encode(text::render_prompt("", {text::ChatTurn{"user", long_prompt}})).size());
  EXPECT_EQ(dropped.prompt.max, long_prompt_tokens);
  EXPECT_GT(long_prompt_tokens, 64);
  EXPECT_EQ(dropped.chosen.max,
            static_cast<int64_t>(tokenizer.encode(text::render_response("Hello there.")).size()));
  EXPECT_EQ(dropped.dropped, 1);
  EXPECT_EQ(dropped.truncated, 0);
  EXPECT_EQ(dropped.pair.max,
            dropped.prompt.max +
                static_cast<int64_t>(tokenizer.encode(text::render_response("Yes.")).size() +
                                     tokenizer.encode(text::render_response("No.")).size()));

  config.truncation = "truncate";
  const DataStats truncated = compute_stats(path, &tokenizer, config);
  EXPECT_EQ(truncated.truncated, 1);
  EXPECT_EQ(truncated.dropped, 0);
  const std::string report = format_stats(truncated);
  EXPECT_NE(report.find("1 pairs would be truncated, 0 dropped"), std::string::npos) << report;
  EXPECT_NE(report.find("p99"), std::string::npos) << report;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace omnirm::data
