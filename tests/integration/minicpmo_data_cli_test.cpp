// `omnirm data stats` and `omnirm data validate` under a MiniCPM-o config (the parity fixture,
// tests/fixtures/minicpmo/, as train.init_from: its config.json gives model.arch minicpmo and
// its tokenizer.json the tokenizer): records are rendered with MiniCPM-o's layout from the
// decoded media, so the token lengths stats prints are those of the reference's sequences, and
// validate reports the records the run would refuse with their lines.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "support/test_support.h"

namespace {

using omnirm::testing::CommandResult;
using omnirm::testing::omnirm_binary;
using omnirm::testing::run_command;
using omnirm::testing::source_dir;

std::string fixture(const std::string& name) {
  return source_dir() + "/tests/fixtures/minicpmo/" + name;
}

// The fixture as a run's model and tokenizer, with the frame cap the reference ran with.
std::string fixture_run(bool reference_frame_cap) {
  return " --set train.init_from=" + fixture("") +
         (reference_frame_cap ? " --set data.video_max_pixels=3136" : "");
}

// The max column of a row ("  pair   p50 p90 p99 max mean") of the stats table.
int64_t max_of_row(const std::string& output, const std::string& row) {
  const size_t at = output.find("\n  " + row + " ");
  if (at == std::string::npos) return -1;
  std::istringstream line(output.substr(at + 3 + row.size()));
  int64_t p50 = 0, p90 = 0, p99 = 0, max = 0;
  line >> p50 >> p90 >> p99 >> max;
  return max;
}

TEST(MinicpmoDataCli, StatsCountsTheTokensOfTheReferencesSequences) {
  std::ifstream in(fixture("reference.json"));
  const nlohmann::json cases = nlohmann::json::parse(in)["cases"];
  int64_t longest_pair = 0, longest_prompt = 0;
  for (const auto& [id, sides] : cases.items()) {
    const auto prompt = sides["chosen"]["prompt_length"].get<int64_t>();
    const auto chosen = static_cast<int64_t>(sides["chosen"]["input_ids"].size()) - prompt;
    const auto rejected = static_cast<int64_t>(sides["rejected"]["input_ids"].size()) - prompt;
    longest_pair = std::max(longest_pair, prompt + chosen + rejected);
    longest_prompt = std::max(longest_prompt, prompt);
  }
  const CommandResult result = run_command(omnirm_binary() + " data stats " +
                                           fixture("pairs.jsonl") + fixture_run(true) + " 2>&1");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find(": 17 pairs;"), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find("bad record"), std::string::npos) << result.output;
  EXPECT_EQ(max_of_row(result.output, "pair"), longest_pair) << result.output;
  EXPECT_EQ(max_of_row(result.output, "prompt"), longest_prompt) << result.output;
  EXPECT_NE(result.output.find("text+video -> text"), std::string::npos) << result.output;

  // Under the recipe's 256² frame cap the tiny model would have to slice clip_rgb's frames:
  // that record is bad, named with its line, and the others are counted.
  const CommandResult capped = run_command(omnirm_binary() + " data stats " +
                                           fixture("pairs.jsonl") + fixture_run(false) + " 2>&1");
  ASSERT_EQ(capped.exit_code, 0) << capped.output;
  EXPECT_NE(capped.output.find(": 16 pairs (1 bad records skipped)"), std::string::npos)
      << capped.output;
  EXPECT_NE(capped.output.find("pairs.jsonl:15: "), std::string::npos) << capped.output;
}

TEST(MinicpmoDataCli, ValidateRendersAsTheRunAndReportsWhatItWouldRefuse) {
  const CommandResult good = run_command(omnirm_binary() + " data validate " +
                                         fixture("pairs.jsonl") + fixture_run(true) + " 2>&1");
  ASSERT_EQ(good.exit_code, 0) << good.output;
  EXPECT_NE(good.output.find("17 records, 0 bad, 0 problems"), std::string::npos) << good.output;
  EXPECT_NE(good.output.find("17 rendered as the config's run renders them"), std::string::npos)
      << good.output;

  const CommandResult refused = run_command(omnirm_binary() + " data validate " +
                                            fixture("pairs.jsonl") + fixture_run(false) + " 2>&1");
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("pairs.jsonl:15: "), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("set data.video_max_pixels to at most 3136"), std::string::npos)
      << refused.output;
  EXPECT_NE(refused.output.find("17 records, 1 bad, 1 problems"), std::string::npos)
      << refused.output;

  // Without a config, only the records and the files' presence are checked, as before.
  const CommandResult plain =
      run_command(omnirm_binary() + " data validate " + fixture("pairs.jsonl") + " 2>&1");
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  EXPECT_EQ(plain.output.find("rendered"), std::string::npos) << plain.output;
}

}  // namespace
