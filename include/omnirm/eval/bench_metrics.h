// The metrics with which Omni-RewardBench scores a scalar (BT) reward model. For a pair with
// responses y1, y2: m = r(y1) − r(y2), gold h ∈ {+1 (y1 better), −1 (y2 better), 0 (tie)}.
//   w/o Ties: gold ties dropped; correct when sign(m) = h; m = 0 counts as wrong.
//   w/ Ties (tie calibration): predict a tie when |m| ≤ ε; the three-class accuracy
//     (right non-ties + ties predicted as ties) / all, at the best ε of a sweep over every
//     observed |m| and one ε below the smallest (no tie predicted) — tuned on the test data
//     itself, as the benchmark reports it;
//   w/ Ties, held out: ε fitted on the other tasks (leave-one-task-out) and applied to this
//     one — the honest variant;
//   Overall: the macro average over the tasks the model supports.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace omnirm::eval {

struct ScoredPair {
  std::string task;
  double margin = 0.0;  // m = r(y1) − r(y2)
  int gold = 0;         // +1, −1, or 0 for a tie
};

// Fraction of non-tie pairs with sign(m) = h; 0 pairs → 0 with `pairs` = 0.
struct Accuracy {
  double value = 0.0;
  int64_t pairs = 0;
};
Accuracy accuracy_without_ties(const std::vector<ScoredPair>& pairs);

// Three-class accuracy when |m| ≤ threshold predicts a tie (threshold < 0: never a tie).
double accuracy_with_ties(const std::vector<ScoredPair>& pairs, double threshold);

struct TieCalibration {
  double threshold = -1.0;  // −1 stands for "below the smallest |m|": no tie predicted
  double accuracy = 0.0;
};
// The best threshold of the sweep (the smallest one among equally good thresholds).
TieCalibration calibrate_ties(const std::vector<ScoredPair>& pairs);

struct TaskReport {
  int64_t pairs = 0;  // all pairs, ties included
  int64_t ties = 0;   // gold ties
  Accuracy without_ties;
  TieCalibration with_ties;         // threshold tuned on this task
  double with_ties_held_out = 0.0;  // threshold tuned on the other tasks
  double held_out_threshold = -1.0;
};

struct BenchReport {
  std::map<std::string, TaskReport> tasks;
  // Macro averages over the supported tasks present (w/o Ties: over those with a non-tie).
  double overall_without_ties = 0.0;
  double overall_with_ties = 0.0;
  double overall_with_ties_held_out = 0.0;
};

// Pairs of tasks outside `supported_tasks` (when it is not empty) are left out entirely.
BenchReport score_benchmark(const std::vector<ScoredPair>& pairs,
                            const std::vector<std::string>& supported_tasks = {});

}  // namespace omnirm::eval
