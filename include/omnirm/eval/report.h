// Evaluation outputs: every per-pair score as JSONL (so any metric can be recomputed), the
// benchmark metrics as a console table, JSON and markdown, and a PNG chart of per-task
// accuracy — with the paper's Omni-RewardModel-BT figures as a reference series when the
// benchmark is Omni-RewardBench.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "omnirm/eval/bench_metrics.h"
#include "omnirm/eval/coverage.h"

namespace omnirm::eval {

struct PairResult {
  std::string id;
  std::string task;
  double reward1 = 0.0;  // chosen (or the first response of a tie)
  double reward2 = 0.0;  // rejected (or the second response of a tie)
  int gold = 1;          // +1: the first is preferred; 0: tie
  std::string category;  // the benchmark's grouping (a subset, a category); may be empty
};

std::vector<ScoredPair> to_scored_pairs(const std::vector<PairResult>& results);

// The Omni-Reward paper's per-task w/ Ties accuracy of Omni-RewardModel-BT, in [0, 1].
const std::map<std::string, double>& paper_bt_with_ties();

void write_pair_scores_jsonl(const std::string& path, const std::vector<PairResult>& results);
std::string report_table(const BenchReport& report);  // console
std::string report_markdown(const BenchReport& report, bool with_paper_reference);
std::string report_json(const BenchReport& report);
void write_report_chart(const std::string& path, const BenchReport& report,
                        bool with_paper_reference);

// Writes scores.jsonl, report.json, report.md and accuracy.png into `dir` (created); the
// report states `coverage` (both denominators and every item not scored).
void write_eval_outputs(const std::string& dir, const std::vector<PairResult>& results,
                        const BenchReport& report, bool with_paper_reference,
                        const Coverage& coverage);

}  // namespace omnirm::eval
