// Benchmarks end to end: `data synth --bench-layout` writes a nine-task Omni-RewardBench
// directory with real media; a tiny model with vision and audio adapters trains two steps;
// `omnirm eval --bench omni-rewardbench` prints per-task and overall numbers that the test
// recomputes from scores.jsonl itself. Then best-checkpoint tracking: checkpoints/best holds
// the weights of the evaluation step with the best train.best_metric, survives keep_last
// pruning, and is a usable model; and `omnirm bench eval` reports both layouts and a ratio.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "support/omni_run.h"
#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
using omnirm::testing::CommandResult;
using omnirm::testing::make_omni_run_dir;
using omnirm::testing::make_temp_dir;
using omnirm::testing::make_tiny_run_dir;
using omnirm::testing::omnirm_binary;
using omnirm::testing::OmniRun;
using omnirm::testing::read_file;
using omnirm::testing::run_command;
using omnirm::testing::TinyRun;
using omnirm::testing::write_file;

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
  }
  return lines;
}

std::string pct(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f", 100.0 * value);
  return text;
}

class OmniBench : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(make_temp_dir("omni-bench"));
    const std::string bench = *dir_ + "/bench";
    const CommandResult layout = run_command(omnirm_binary() + " data synth --bench-layout --out " +
                                             bench + " --eval-pairs 4 --seed 5");
    ASSERT_EQ(layout.exit_code, 0) << layout.output;
    // The tokenizer also learns the benchmark's text.
    OmniRun run;
    run.tasks = "t2t,ti2t,ta2t";
    run.eval_pairs = 2;
    run.seed = 5;
    run.point_tower = false;
    run.eval_in_config = false;
    run.extra_corpora = {bench + "/corpus.txt"};
    run.micro_batch_pairs = 8;
    run.threads = 2;
    run.output_dir = *dir_ + "/run";
    ASSERT_EQ(make_omni_run_dir(*dir_, run), "");
    const CommandResult train = run_command(omnirm_binary() + " train -c " + *dir_ + "/omni.yaml");
    ASSERT_EQ(train.exit_code, 0) << train.output;
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  static std::string* dir_;
};
std::string* OmniBench::dir_ = nullptr;

TEST_F(OmniBench, PrintedNumbersMatchTheScoresFile) {
  const std::string out = *dir_ + "/eval-out";
  const CommandResult eval =
      run_command(omnirm_binary() + " eval --bench omni-rewardbench --data " + *dir_ +
                  "/bench -m " + *dir_ + "/run --out " + out + " --paper-reference");
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  for (const char* name : {"scores.jsonl", "report.json", "report.md", "accuracy.png"}) {
    EXPECT_TRUE(fs::exists(out + "/" + name)) << name;
  }
  // Recompute w/o Ties per task from the per-pair scores: gold ties dropped, m = 0 wrong.
  const std::vector<nlohmann::json> scores = read_jsonl(out + "/scores.jsonl");
  ASSERT_EQ(scores.size(), 9u * 5u);                    // 4 pairs + 1 tie per task
  std::map<std::string, std::pair<int, int>> right_of;  // task → (right, non-tie pairs)
  std::map<std::string, int> ties_of;
  for (const nlohmann::json& s : scores) {
    const std::string task = s["task"];
    const double margin = s["reward1"].get<double>() - s["reward2"].get<double>();
    EXPECT_NEAR(margin, s["margin"].get<double>(), 1e-12);
    if (s["gold"] == 0) {
      ++ties_of[task];
      continue;
    }
    right_of[task].first += margin > 0.0;
    ++right_of[task].second;
  }
  ASSERT_EQ(right_of.size(), 9u);
  double overall = 0.0;
  for (const auto& [task, counts] : right_of) {
    EXPECT_EQ(ties_of[task], 1) << task;
    const double accuracy = double(counts.first) / double(counts.second);
    overall += accuracy / 9.0;
    // "  <task>  <pairs>  <ties>  <w/o ties> ..."
    const std::regex row("\n  " + task + " +5 +1 +" +
                         std::regex_replace(pct(accuracy), std::regex("\\."), "\\.") + " ");
    EXPECT_TRUE(std::regex_search(eval.output, row)) << task << " " << pct(accuracy) << "\n"
                                                     << eval.output;
  }
  const std::regex overall_row("\n  overall +" +
                               std::regex_replace(pct(overall), std::regex("\\."), "\\.") + " ");
  EXPECT_TRUE(std::regex_search(eval.output, overall_row)) << pct(overall) << "\n" << eval.output;
  const nlohmann::json report = nlohmann::json::parse(read_file(out + "/report.json"));
  EXPECT_NEAR(report["overall"]["without_ties"].get<double>(), overall, 1e-12);
  EXPECT_EQ(report["tasks"].size(), 9u);
}

TEST_F(OmniBench, ABadRecordNamesFileAndLineAndFollowsThePolicy) {
  const std::string copy = *dir_ + "/bench-bad";
  fs::remove_all(copy);
  fs::copy(*dir_ + "/bench", copy, fs::copy_options::recursive);
  // The second record of t2t.json (a JSON array, one record a line after "[") loses a field.
  std::string text = read_file(copy + "/t2t.json");
  const size_t second = text.find("\"criteria_preference\"", text.find('\n', 2) + 1);
  ASSERT_NE(second, std::string::npos);
  text.replace(second, std::string("\"criteria_preference\"").size(), "\"criteria_pref\"");
  write_file(copy + "/t2t.json", text);
  const std::string base =
      omnirm_binary() + " eval --bench omni-rewardbench --data " + copy + " -m " + *dir_ + "/run";
  const CommandResult refused = run_command(base);
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find(copy + "/t2t.json:3: criteria_preference: missing required field"),
            std::string::npos)
      << refused.output;
  // With a model whose config says skip: copy the checkpoint and edit its config.
  const std::string model = *dir_ + "/skip-model";
  fs::remove_all(model);
  fs::copy(*dir_ + "/run/checkpoints/step-00000002", model);
  std::string config = read_file(model + "/config.yaml");
  config =
      std::regex_replace(config, std::regex("on_bad_record: \"?error\"?"), "on_bad_record: skip");
  write_file(model + "/config.yaml", config);
  const CommandResult tolerant = run_command(
      omnirm_binary() + " eval --bench omni-rewardbench --data " + copy + " -m " + model);
  ASSERT_EQ(tolerant.exit_code, 0) << tolerant.output;
  EXPECT_NE(tolerant.output.find("44 of 45 items scored (9 ties, 0 truncated; not scored: 1 bad "
                                 "records"),
            std::string::npos)
      << tolerant.output;
}

// The records of one task file of the benchmark (a JSON array or JSONL), and writing them back
// in the same layout.
std::vector<nlohmann::json> read_task_file(const std::string& path) {
  const std::string text = read_file(path);
  if (text.find_first_not_of(" \n") != std::string::npos &&
      text[text.find_first_not_of(" \n")] == '[') {
    return nlohmann::json::parse(text).get<std::vector<nlohmann::json>>();
  }
  return read_jsonl(path);
}

void write_task_file(const std::string& path, const std::vector<nlohmann::json>& records) {
  if (path.ends_with(".json")) {
    write_file(path, nlohmann::json(records).dump(1) + "\n");
    return;
  }
  std::string text;
  for (const nlohmann::json& record : records) text += record.dump() + "\n";
  write_file(path, text);
}

// The benchmark file of `task` in `dir` (any case, .json or .jsonl).
std::string task_file(const std::string& dir, const std::string& task) {
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().stem().string();
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    if (name == task) return entry.path().string();
  }
  ADD_FAILURE() << "no " << task << " file in " << dir;
  return "";
}

TEST_F(OmniBench, IdenticalResponsesAreScoredAndAnItemWithoutMediaIsListed) {
  const std::string copy = *dir_ + "/bench-ties";
  fs::remove_all(copy);
  fs::copy(*dir_ + "/bench", copy, fs::copy_options::recursive);
  // t2i: its tie and one preference pair get the same image file as both responses.
  const std::string t2i = task_file(copy, "t2i");
  std::vector<nlohmann::json> records = read_task_file(t2i);
  int tie = -1, preference = -1;
  for (int i = 0; i < static_cast<int>(records.size()); ++i) {
    (records[i]["criteria_preference"] == "tie" ? tie : preference) = i;
  }
  ASSERT_GE(tie, 0);
  ASSERT_GE(preference, 0);
  std::vector<std::string> identical_ids;
  for (const int i : {tie, preference}) {
    records[i]["response2_path"] = records[i]["response1_path"];
    records[i]["response2"] = records[i]["response1"];
    identical_ids.push_back(records[i]["id"].get<std::string>());
  }
  write_task_file(t2i, records);
  // ti2t: the first record's prompt image is gone.
  const std::vector<nlohmann::json> ti2t = read_task_file(task_file(copy, "ti2t"));
  const nlohmann::json& lost = ti2t.front();
  const std::string image = lost.contains("image") ? lost["image"] : lost["image_path"];
  ASSERT_TRUE(fs::remove(copy + "/media_data/" + image)) << image;

  const std::string out = *dir_ + "/ties-out";
  const CommandResult eval =
      run_command(omnirm_binary() + " eval --bench omni-rewardbench --data " + copy + " -m " +
                  *dir_ + "/run --out " + out);
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  EXPECT_NE(eval.output.find("44 of 45 items scored"), std::string::npos) << eval.output;
  EXPECT_NE(eval.output.find("scored 44 of 45 items; 1 not scored"), std::string::npos)
      << eval.output;

  // Both denominators and the item not scored, with its reason.
  const nlohmann::json report = nlohmann::json::parse(read_file(out + "/report.json"));
  EXPECT_EQ(report["items"], 45);
  EXPECT_EQ(report["scored"], 44);
  ASSERT_EQ(report["unscored"].size(), 1u);
  EXPECT_EQ(report["unscored"][0]["id"], lost["id"]);
  EXPECT_EQ(report["unscored"][0]["task"], "ti2t");
  EXPECT_NE(
      report["unscored"][0]["reason"].get<std::string>().find(fs::path(image).filename().string()),
      std::string::npos)
      << report["unscored"][0];
  EXPECT_NE(read_file(out + "/report.md").find("Scored 44 of 45 items"), std::string::npos);

  // The identical pairs are scored, with equal rewards.
  const std::vector<nlohmann::json> scores = read_jsonl(out + "/scores.jsonl");
  ASSERT_EQ(scores.size(), 44u);
  int identical_seen = 0;
  for (const nlohmann::json& s : scores) {
    if (std::find(identical_ids.begin(), identical_ids.end(), s["id"]) == identical_ids.end())
      continue;
    ++identical_seen;
    EXPECT_NEAR(s["margin"].get<double>(), 0.0, 1e-6) << s;
  }
  EXPECT_EQ(identical_seen, 2);

  // The metrics equal those a separate script recomputes from scores.jsonl.
  const CommandResult script =
      run_command("python3 " + omnirm::testing::source_dir() +
                  "/tools/bench_metrics_from_scores.py " + out + "/scores.jsonl");
  ASSERT_EQ(script.exit_code, 0) << script.output;
  const nlohmann::json recomputed = nlohmann::json::parse(script.output);
  ASSERT_EQ(recomputed["tasks"].size(), report["tasks"].size());
  for (const auto& [task, values] : report["tasks"].items()) {
    for (const char* metric : {"without_ties", "with_ties", "with_ties_held_out"}) {
      EXPECT_NEAR(recomputed["tasks"][task][metric].get<double>(), values[metric].get<double>(),
                  1e-12)
          << task << " " << metric;
    }
    EXPECT_EQ(recomputed["tasks"][task]["pairs"], values["pairs"]) << task;
    EXPECT_EQ(recomputed["tasks"][task]["ties"], values["ties"]) << task;
  }
  for (const char* metric : {"without_ties", "with_ties", "with_ties_held_out"}) {
    EXPECT_NEAR(recomputed["overall"][metric].get<double>(),
                report["overall"][metric].get<double>(), 1e-12)
        << metric;
  }
}

TEST_F(OmniBench, BenchEvalReportsBothLayoutsAndTheirRatio) {
  const CommandResult bench = run_command(omnirm_binary() + " bench eval -m " + *dir_ + "/run -d " +
                                          *dir_ + "/data/eval.jsonl --rounds 1");
  ASSERT_EQ(bench.exit_code, 0) << bench.output;
  std::smatch on, off, ratio;
  ASSERT_TRUE(std::regex_search(bench.output, on, std::regex("prefix sharing on +([0-9.]+) ")))
      << bench.output;
  ASSERT_TRUE(std::regex_search(bench.output, off, std::regex("prefix sharing off +([0-9.]+) ")))
      << bench.output;
  ASSERT_TRUE(
      std::regex_search(bench.output, ratio, std::regex("speedup \\(on / off\\): ([0-9.]+)x")))
      << bench.output;
  EXPECT_NEAR(std::stod(ratio[1]), std::stod(on[1]) / std::stod(off[1]),
              0.01 * std::stod(ratio[1]) + 0.002);
  std::smatch difference;
  ASSERT_TRUE(std::regex_search(bench.output, difference,
                                std::regex("reward difference between the layouts: ([0-9.e+-]+)")));
  EXPECT_LT(std::stod(difference[1]), 1e-4);
}

// ---------------------------------------------------------------------------------------
// Best checkpoint.

class BestCheckpoint : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(make_temp_dir("best"));
    ASSERT_EQ(make_tiny_run_dir(*dir_, TinyRun{}), "");
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  // Eight steps evaluated every two; the best is the largest eval loss (an early step).
  static CommandResult train(const std::string& name, const std::string& extra) {
    return run_command(omnirm_binary() + " train -c " + *dir_ +
                       "/tiny.yaml --set train.output_dir=" + out(name) +
                       " --set train.eval_every=2 --set train.best_metric=eval/loss"
                       " --set train.best_mode=max " +
                       extra);
  }
  static std::string out(const std::string& name) { return *dir_ + "/runs/" + name; }
  static std::string step_dir(const std::string& name, int64_t step) {
    char text[32];
    std::snprintf(text, sizeof(text), "step-%08lld", static_cast<long long>(step));
    return out(name) + "/checkpoints/" + text;
  }
  // The evaluation step with the largest eval/loss in metrics.jsonl (the first of equals).
  static int64_t best_step_of(const std::string& name) {
    int64_t best_step = -1;
    double best = -1.0;
    for (const nlohmann::json& record : read_jsonl(out(name) + "/metrics.jsonl")) {
      if (!record.contains("eval/loss")) continue;
      if (record["eval/loss"].get<double>() > best) {
        best = record["eval/loss"].get<double>();
        best_step = record["step"].get<int64_t>();
      }
    }
    return best_step;
  }
  static std::string* dir_;
};
std::string* BestCheckpoint::dir_ = nullptr;

TEST_F(BestCheckpoint, BestIsTheBestStepAndSurvivesPruning) {
  // "all" keeps every checkpoint (every two steps); "pruned" keeps only the last one.
  const CommandResult all = train("all", "--set train.save_every=2 --set train.keep_last=10");
  ASSERT_EQ(all.exit_code, 0) << all.output;
  const CommandResult pruned = train("pruned", "--set train.save_every=2 --set train.keep_last=1");
  ASSERT_EQ(pruned.exit_code, 0) << pruned.output;
  const int64_t best = best_step_of("pruned");
  ASSERT_GT(best, 0);
  ASSERT_LT(best, 8) << "the largest loss should come before the end of training";
  EXPECT_EQ(best_step_of("all"), best);

  const std::string best_dir = out("pruned") + "/checkpoints/best";
  EXPECT_FALSE(fs::exists(step_dir("pruned", best))) << "keep_last 1 should have pruned it";
  EXPECT_TRUE(fs::exists(step_dir("pruned", 8)));
  const nlohmann::json record = nlohmann::json::parse(read_file(best_dir + "/best.json"));
  EXPECT_EQ(record["step"], best);
  EXPECT_EQ(record["metric"], "eval/loss");
  // The best step's own checkpoint, kept whole (it resumes like any checkpoint).
  const nlohmann::json state = nlohmann::json::parse(read_file(best_dir + "/trainer_state.json"));
  EXPECT_EQ(state["step"], best);
  EXPECT_TRUE(fs::exists(best_dir + "/optimizer.pt"));
  EXPECT_EQ(read_file(best_dir + "/model.safetensors"),
            read_file(step_dir("all", best) + "/model.safetensors"));
  // The last checkpoint's state records the best step and value.
  const nlohmann::json last =
      nlohmann::json::parse(read_file(step_dir("pruned", 8) + "/trainer_state.json"));
  EXPECT_EQ(last["best_step"], best);
  EXPECT_NEAR(last["best_value"].get<double>(), record["value"].get<double>(), 1e-12);
  // A usable model.
  const CommandResult eval = run_command(omnirm_binary() + " eval -m " + best_dir);
  EXPECT_EQ(eval.exit_code, 0) << eval.output;
}

TEST_F(BestCheckpoint, AStepWithoutCheckpointKeepsItsModel) {
  const CommandResult all = train("all-2", "--set train.save_every=2 --set train.keep_last=10");
  ASSERT_EQ(all.exit_code, 0) << all.output;
  // Checkpoints only at the end: best/ gets the model of its step directly.
  const CommandResult sparse = train("sparse", "--set train.save_every=0 --set train.keep_last=1");
  ASSERT_EQ(sparse.exit_code, 0) << sparse.output;
  const int64_t best = best_step_of("sparse");
  ASSERT_GT(best, 0);
  ASSERT_LT(best, 8);
  const std::string best_dir = out("sparse") + "/checkpoints/best";
  EXPECT_EQ(nlohmann::json::parse(read_file(best_dir + "/best.json"))["step"], best);
  EXPECT_EQ(read_file(best_dir + "/model.safetensors"),
            read_file(step_dir("all-2", best) + "/model.safetensors"));
  EXPECT_TRUE(fs::exists(best_dir + "/tokenizer.model"));
  EXPECT_TRUE(fs::exists(best_dir + "/config.yaml"));
}

TEST_F(BestCheckpoint, AnUnknownBestMetricNamesTheAvailableOnes) {
  const CommandResult run = train("unknown", "--set train.best_metric=eval/precision");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("train.best_metric: 'eval/precision' is not among the evaluation "
                            "metrics"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("eval/accuracy"), std::string::npos) << run.output;
  const CommandResult bench = train("no-bench", "--set train.best_metric=bench/overall");
  EXPECT_EQ(bench.exit_code, 2) << bench.output;
  EXPECT_NE(bench.output.find("set train.eval_benchmark"), std::string::npos) << bench.output;
}

}  // namespace
