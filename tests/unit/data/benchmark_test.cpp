// The benchmark readers on small hand-written files: VL-RewardBench, Multimodal RewardBench,
// RewardBench (text) and an Omni-RewardBench directory — fields, the chosen side, the
// category tag, ties, file discovery by name and bad records named "file:line: field".
#include "omnirm/data/benchmark.h"

#include <gtest/gtest.h>

#include <string>

#include "omnirm/core/error.h"
#include "support/test_support.h"

namespace omnirm::data {
namespace {

using omnirm::testing::make_temp_dir;
using omnirm::testing::user_error_of;
using omnirm::testing::write_file;

std::string text_of_turn(const Example& example) { return text_of(example.prompt.back().content); }

TEST(BenchmarkReader, VlRewardBenchRanksCategoriesAndImage) {
  const std::string dir = make_temp_dir("vlrb");
  write_file(
      dir + "/vl.jsonl",
      R"({"id": "RLAIF-V_12", "query": "What is shown?", "response": ["A cat.", "A dog."], "human_ranking": [1, 0], "image": "images/a.jpg"})"
      "\n"
      R"({"id": "mathverse_3", "query": "Solve it.", "response": ["x = 2", "x = 3"], "human_ranking": [0, 1], "image_path": "images/b.jpg"})"
      "\n"
      R"({"id": "wild_9", "query": "Hi?", "response": ["Hello.", "Bye."], "human_ranking": [0, 1], "image": "images/c.jpg", "query_source": "povid"})"
      "\n");
  const BenchmarkData data = read_benchmark(SourceFormat::vl_rewardbench, dir, OnBadRecord::error);
  ASSERT_EQ(data.examples.size(), 3u);
  EXPECT_EQ(data.root, dir);
  const Example& first = data.examples[0];
  EXPECT_EQ(first.task, "ti2t");
  EXPECT_EQ(text_of(first.chosen), "A dog.");  // rank 0 is the better one
  EXPECT_EQ(text_of(first.rejected), "A cat.");
  ASSERT_EQ(first.prompt.back().content.size(), 2u);
  EXPECT_EQ(first.prompt.back().content[0].type, "image");
  EXPECT_EQ(first.prompt.back().content[0].path, "images/a.jpg");
  EXPECT_EQ(text_of_turn(first), "What is shown?");
  EXPECT_EQ(first.tags, std::vector<std::string>{"hallucination"});
  EXPECT_EQ(text_of(data.examples[1].chosen), "x = 2");
  EXPECT_EQ(data.examples[1].tags, std::vector<std::string>{"reasoning"});
  // query_source wins over the id's prefix.
  EXPECT_EQ(data.examples[2].tags, std::vector<std::string>{"hallucination"});
}

TEST(BenchmarkReader, VlRewardBenchEqualRanksAreABadRecordNamedByLine) {
  const std::string dir = make_temp_dir("vlrb-bad");
  const std::string file = dir + "/vl.json";
  write_file(
      file,
      "[\n"
      R"(  {"id": "a", "query": "q", "response": ["x", "y"], "human_ranking": [0, 1], "image": "i.jpg"},)"
      "\n"
      R"(  {"id": "b", "query": "q", "response": ["x", "y"],)"
      "\n"
      R"(   "human_ranking": [1, 1], "image": "i.jpg"})"
      "\n]\n");
  const std::string message = user_error_of(
      [&] { read_benchmark(SourceFormat::vl_rewardbench, file, OnBadRecord::error); });
  EXPECT_EQ(message.rfind(file + ":3: human_ranking: both responses have rank 1", 0), 0u)
      << message;
  const BenchmarkData skipped =
      read_benchmark(SourceFormat::vl_rewardbench, file, OnBadRecord::skip);
  EXPECT_EQ(skipped.examples.size(), 1u);
  EXPECT_EQ(skipped.summary.skipped, 1);
}

TEST(BenchmarkReader, MultimodalRewardBenchBetterOutputAndSplitCategories) {
  const std::string dir = make_temp_dir("mmrb");
  write_file(dir + "/all_data.json", R"([
  {"ID": "pairs_1", "Text": "Who is this?", "Image": "images/pairs/1.jpg", "Output1": "A doctor.",
   "Output2": "I cannot tell from the picture.", "Better": "Output2", "Category": "safety"},
  {"ID": "mathvista_5", "Text": "Area?", "Image": "images/mathvista/5.jpg", "Output1": "12",
   "Output2": "14", "Better": "Output1", "Category": "reasoning"},
  {"ID": "nocaps_2", "Text": "Caption it.", "Image": "images/nocaps/2.jpg", "Output1": "A boat.",
   "Output2": "A car.", "Better": "Output1", "Category": "correctness"},
  {"ID": "nocaps_3", "Text": "Caption it.", "Image": "images/nocaps/3.jpg", "Output1": "A.",
   "Output2": "B.", "Better": "Both", "Category": "correctness"}
])");
  const BenchmarkData data =
      read_benchmark(SourceFormat::multimodal_rewardbench, dir, OnBadRecord::skip);
  ASSERT_EQ(data.examples.size(), 3u);
  EXPECT_EQ(data.examples[0].id, "pairs_1");
  EXPECT_EQ(text_of(data.examples[0].chosen), "I cannot tell from the picture.");
  EXPECT_EQ(data.examples[0].tags, std::vector<std::string>{"safety/bias"});
  EXPECT_EQ(data.examples[0].prompt.back().content[0].path, "images/pairs/1.jpg");
  EXPECT_EQ(data.examples[1].tags, std::vector<std::string>{"reasoning/math"});
  EXPECT_EQ(text_of(data.examples[1].chosen), "12");
  EXPECT_EQ(data.examples[2].tags, std::vector<std::string>{"correctness"});
  ASSERT_EQ(data.summary.problems.size(), 1u);
  EXPECT_EQ(data.summary.problems[0],
            dir + "/all_data.json:8: Better: 'Both' is not valid; use Output1 or Output2");
}

TEST(BenchmarkReader, RewardBenchSubsetsAndMissingField) {
  const std::string dir = make_temp_dir("rb");
  const std::string file = dir + "/filtered.jsonl";
  write_file(
      file,
      R"({"id": 1, "prompt": "Say hi.", "chosen": "Hi!", "rejected": "No.", "subset": "alpacaeval-easy"})"
      "\n\n"
      R"({"id": 2, "prompt": "2+2?", "chosen": "4", "rejected": "5", "subset": "math-prm"})"
      "\n"
      R"({"id": 3, "prompt": "Be safe.", "chosen": "Sure.", "subset": "donotanswer"})"
      "\n");
  const BenchmarkData data = read_benchmark(SourceFormat::rewardbench, file, OnBadRecord::skip);
  ASSERT_EQ(data.examples.size(), 2u);
  EXPECT_EQ(data.examples[0].task, "t2t");
  EXPECT_EQ(data.examples[0].id, "1");
  EXPECT_EQ(text_of_turn(data.examples[0]), "Say hi.");
  EXPECT_EQ(text_of(data.examples[0].chosen), "Hi!");
  EXPECT_EQ(data.examples[1].tags, std::vector<std::string>{"math-prm"});
  ASSERT_EQ(data.summary.problems.size(), 1u);
  EXPECT_EQ(data.summary.problems[0], file + ":4: rejected: missing required field");
}

TEST(BenchmarkReader, OmniDirectoryFindsTaskFilesInAnyCaseAndKeepsTies) {
  const std::string dir = make_temp_dir("omnirb");
  write_file(dir + "/T2T.json", R"([
  {"id": "a", "prompt": "Greet.", "response1": "Hello.", "response2": "Hi.",
   "criteria": "Either is fine.", "criteria_preference": "tie"},
  {"id": "b", "prompt": "Count.", "response1": "1 2", "response2": "1 2 3",
   "criteria": "Count to three.", "criteria_preference": "response2"}
])");
  write_file(
      dir + "/ti2i.jsonl",
      R"({"id": "c", "prompt": "Make it red.", "image": "src.png", "response1_path": "a.png", "response2_path": "media_data/b.png", "criteria": "Red.", "criteria_preference": "response1"})"
      "\n");
  write_file(dir + "/notes.json", "[]\n");  // names no task: not a task file
  const BenchmarkData data =
      read_benchmark(SourceFormat::omni_rewardbench, dir, OnBadRecord::error);
  ASSERT_EQ(data.files.size(), 2u);
  ASSERT_EQ(data.examples.size(), 3u);
  EXPECT_EQ(data.examples[0].task, "t2t");
  EXPECT_EQ(data.examples[0].preference, Preference::tie);
  EXPECT_EQ(data.examples[0].criteria, "Either is fine.");
  EXPECT_EQ(text_of(data.examples[1].chosen), "1 2 3");
  const Example& edit = data.examples[2];
  EXPECT_EQ(edit.task, "ti2i");
  EXPECT_EQ(edit.prompt.back().content[0].path, "media_data/src.png");
  EXPECT_EQ(edit.chosen[0].path, "media_data/a.png");
  EXPECT_EQ(edit.rejected[0].path, "media_data/b.png");  // already under media_data/
}

TEST(BenchmarkReader, OmniBadRecordsAndDuplicateTasks) {
  const std::string dir = make_temp_dir("omnirb-bad");
  write_file(
      dir + "/t2a.jsonl",
      R"({"id": "a", "prompt": "A beep.", "response1_path": "a.wav", "response2_path": "b.wav", "criteria_preference": "response1"})"
      "\n"
      R"({"id": "b", "prompt": "A beep.", "response1_path": "a.wav", "criteria_preference": "response1"})"
      "\n");
  EXPECT_EQ(user_error_of(
                [&] { read_benchmark(SourceFormat::omni_rewardbench, dir, OnBadRecord::error); }),
            dir +
                "/t2a.jsonl:2: response2: missing required field; fix the record or set "
                "data.on_bad_record: skip");
  write_file(dir + "/T2A_test.json", "[]\n");
  EXPECT_NE(user_error_of([&] {
              read_benchmark(SourceFormat::omni_rewardbench, dir, OnBadRecord::error);
            }).find("hold task t2a"),
            std::string::npos);
  EXPECT_NE(user_error_of([&] {
              read_benchmark(SourceFormat::omni_rewardbench, make_temp_dir("empty"),
                             OnBadRecord::error);
            }).find("holds no task file"),
            std::string::npos);
  EXPECT_NE(user_error_of([] { parse_benchmark_format("trl", "--bench"); }).find("--bench: 'trl'"),
            std::string::npos);
  EXPECT_EQ(parse_benchmark_format("multimodal-rewardbench", "--bench"),
            SourceFormat::multimodal_rewardbench);
}

}  // namespace
}  // namespace omnirm::data
