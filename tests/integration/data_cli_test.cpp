// End-to-end tests of `omnirm data convert | validate | stats` and `omnirm bench data`: exit
// codes, the one-line errors naming file:line (or file:[index]), the skip summaries, media
// checks against the root, and the figures the benchmark prints.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
using omnirm::testing::CommandResult;
using omnirm::testing::make_temp_dir;
using omnirm::testing::omnirm_binary;
using omnirm::testing::run_command;
using omnirm::testing::source_dir;
using omnirm::testing::write_file;

// A scratch directory removed when the test ends.
struct ScratchDir {
  ScratchDir() : path(make_temp_dir("data-cli")) {}
  ~ScratchDir() { fs::remove_all(path); }
  std::string path;
};

std::string fixture(const std::string& name) {
  return source_dir() + "/tests/fixtures/convert/" + name;
}

TEST(DataCli, ConvertSkipsAndSummarises) {
  const ScratchDir scratch;
  const std::string& dir = scratch.path;
  const CommandResult result = run_command(omnirm_binary() + " data convert --from trl --in " +
                                           fixture("trl_preference.jsonl") + " --out " + dir +
                                           "/trl.jsonl --on-bad-record skip 2>&1");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("skipped " + fixture("trl_preference.jsonl") + ":5: chosen:"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("7 records, 4 written to " + dir +
                               "/trl.jsonl (t2t 3, ti2t 1), 3 skipped"),
            std::string::npos)
      << result.output;

  // The converted file is valid canonical data (no media checks: the images are not there).
  const CommandResult valid =
      run_command(omnirm_binary() + " data validate --no-media-check " + dir + "/trl.jsonl 2>&1");
  EXPECT_EQ(valid.exit_code, 0) << valid.output;
  EXPECT_NE(valid.output.find("4 records, 0 bad, 0 problems"), std::string::npos) << valid.output;
}

TEST(DataCli, ConvertErrorNamesTheArrayItemsLine) {
  const ScratchDir scratch;
  const std::string& dir = scratch.path;
  const CommandResult result =
      run_command(omnirm_binary() + " data convert --from llamafactory --in " +
                  fixture("llamafactory_ranking.json") + " --out " + dir + "/out.jsonl 2>&1");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("omnirm: error: " + fixture("llamafactory_ranking.json") +
                               ":64: rejected: missing required field; fix the record or pass "
                               "--on-bad-record skip"),
            std::string::npos)
      << result.output;
  EXPECT_FALSE(fs::exists(dir + "/out.jsonl"));

  const CommandResult unknown =
      run_command(omnirm_binary() + " data convert --from sharegpt --in " +
                  fixture("trl_preference.jsonl") + " --out " + dir + "/x.jsonl 2>&1");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.output.find("'sharegpt' is not a known format"), std::string::npos)
      << unknown.output;
}

TEST(DataCli, ValidateListsEveryProblemAndChecksMedia) {
  const ScratchDir scratch;
  const std::string& dir = scratch.path;
  write_file(dir + "/media/a.png", "png");
  const std::string record_a =
      R"({"id": "a", "prompt": [{"role": "user", "content": [{"type": "image", "path": "media/a.png"}, {"type": "text", "text": "What?"}]}], "chosen": "A.", "rejected": "B."})";
  const std::string record_b =
      R"({"id": "b", "prompt": [{"role": "user", "content": [{"type": "image", "path": "media/b.png"}, {"type": "text", "text": "What?"}]}], "chosen": "A.", "rejected": "B."})";
  write_file(dir + "/pairs.jsonl",
             record_a + "\n" + record_b + "\n{\"id\": 5}\n" + record_a + "\n");
  const CommandResult result =
      run_command(omnirm_binary() + " data validate " + dir + "/pairs.jsonl 2>&1");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find(
                dir + "/pairs.jsonl:2: prompt[0].content[0].path: image 'media/b.png' not found"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find(dir + "/pairs.jsonl:3: id: must be a string"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("4 records, 2 bad, 2 problems, 3 media files checked"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("omnirm: error: 2 problems in 2 records"), std::string::npos)
      << result.output;
}

TEST(DataCli, StatsWithAndWithoutATokenizer) {
  const ScratchDir scratch;
  const std::string& dir = scratch.path;
  const CommandResult synth = run_command(omnirm_binary() + " data synth --out " + dir +
                                          " --train-pairs 60 --eval-pairs 10 --seed 2 2>&1");
  ASSERT_EQ(synth.exit_code, 0) << synth.output;
  const CommandResult counts =
      run_command(omnirm_binary() + " data stats " + dir + "/train.jsonl 2>&1");
  ASSERT_EQ(counts.exit_code, 0) << counts.output;
  EXPECT_NE(counts.output.find(dir + "/train.jsonl: 60 pairs"), std::string::npos) << counts.output;
  EXPECT_NE(counts.output.find("text -> text"), std::string::npos) << counts.output;
  EXPECT_NE(counts.output.find("need a tokenizer"), std::string::npos) << counts.output;

  const CommandResult tok = run_command(omnirm_binary() + " tokenizer train --corpus " + dir +
                                        "/corpus.txt --out " + dir + "/tok --vocab-size 400 2>&1");
  ASSERT_EQ(tok.exit_code, 0) << tok.output;
  const CommandResult lengths = run_command(
      omnirm_binary() + " data stats " + dir + "/train.jsonl --set data.tokenizer=" + dir +
      "/tok.model --set data.max_length=64 --set data.truncation=drop 2>&1");
  ASSERT_EQ(lengths.exit_code, 0) << lengths.output;
  EXPECT_NE(lengths.output.find("p50"), std::string::npos) << lengths.output;
  EXPECT_NE(lengths.output.find("under data.max_length 64 (drop): 0 pairs would be truncated"),
            std::string::npos)
      << lengths.output;
}

TEST(DataCli, SynthTakesTrainingPairsPerTask) {
  const ScratchDir scratch;
  const std::string synth = omnirm_binary() + " data synth --out " + scratch.path;
  const CommandResult weighted = run_command(
      synth + " --tasks t2a,ta2t --train-pairs 6 --eval-pairs 2 --task-train-pairs ta2t=9 2>&1");
  ASSERT_EQ(weighted.exit_code, 0) << weighted.output;
  EXPECT_NE(weighted.output.find("wrote 15 train and 4 eval pairs"), std::string::npos)
      << weighted.output;

  const CommandResult no_count =
      run_command(synth + " --tasks t2a,ta2t --task-train-pairs ta2t,t2a=3 2>&1");
  EXPECT_NE(no_count.exit_code, 0);
  EXPECT_NE(no_count.output.find("'ta2t' is not TASK=N"), std::string::npos) << no_count.output;

  const CommandResult negative =
      run_command(synth + " --tasks t2a,ta2t --task-train-pairs ta2t=-3 2>&1");
  EXPECT_NE(negative.exit_code, 0);
  EXPECT_NE(negative.output.find("'ta2t=-3' is not TASK=N"), std::string::npos) << negative.output;

  const CommandResult twice =
      run_command(synth + " --tasks t2a --task-train-pairs t2a=3,t2a=4 2>&1");
  EXPECT_NE(twice.exit_code, 0);
  EXPECT_NE(twice.output.find("given twice"), std::string::npos) << twice.output;

  const CommandResult text = run_command(synth + " --tasks t2t --task-train-pairs t2t=5 2>&1");
  EXPECT_NE(text.exit_code, 0);
  EXPECT_NE(text.output.find("--train-pairs"), std::string::npos) << text.output;
}

TEST(DataCli, BenchDataPrintsThroughputAndMemory) {
  const ScratchDir scratch;
  const std::string& dir = scratch.path;
  const CommandResult result = run_command(omnirm_binary() + " bench data --pairs 300,600 --dir " +
                                           dir + " --vocab-size 2000 2>&1");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("      300 "), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("      600 "), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("goal <= 1 GiB loader peak RSS: met"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("pairs/cpu-s"), std::string::npos) << result.output;
  EXPECT_FALSE(fs::exists(dir + "/corpus-300.jsonl"));  // removed unless --keep
}

}  // namespace
