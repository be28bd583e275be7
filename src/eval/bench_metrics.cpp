// Implementation of eval/bench_metrics.h.
#include "omnirm/eval/bench_metrics.h"

#include <algorithm>
#include <cmath>

namespace omnirm::eval {

namespace {

int sign(double x) { return x > 0.0 ? 1 : (x < 0.0 ? -1 : 0); }

std::vector<ScoredPair> pairs_of_task(const std::vector<ScoredPair>& pairs, const std::string& task,
                                      bool keep) {
  std::vector<ScoredPair> out;
  for (const ScoredPair& p : pairs) {
    if ((p.task == task) == keep) out.push_back(p);
  }
  return out;
}

}  // namespace

Accuracy accuracy_without_ties(const std::vector<ScoredPair>& pairs) {
  Accuracy a;
  int64_t correct = 0;
  for (const ScoredPair& p : pairs) {
    if (p.gold == 0) continue;
    ++a.pairs;
    correct += sign(p.margin) == p.gold;
  }
  a.value = a.pairs > 0 ? double(correct) / double(a.pairs) : 0.0;
  return a;
}

double accuracy_with_ties(const std::vector<ScoredPair>& pairs, double threshold) {
  if (pairs.empty()) return 0.0;
  int64_t correct = 0;
  for (const ScoredPair& p : pairs) {
    const bool predicted_tie = std::abs(p.margin) <= threshold;
    correct += predicted_tie ? p.gold == 0 : (p.gold != 0 && sign(p.margin) == p.gold);
  }
  return double(correct) / double(pairs.size());
}

TieCalibration calibrate_ties(const std::vector<ScoredPair>& pairs) {
  // Sorted by |m|, raising ε past a group of equal |m| turns exactly that group into
  // predicted ties: a gold tie gains one, a correctly signed non-tie loses one.
  std::vector<ScoredPair> sorted = pairs;
  std::sort(sorted.begin(), sorted.end(), [](const ScoredPair& a, const ScoredPair& b) {
    return std::abs(a.margin) < std::abs(b.margin);
  });
  int64_t correct = 0;  // at ε below the smallest |m|: no ties predicted
  for (const ScoredPair& p : sorted) correct += p.gold != 0 && sign(p.margin) == p.gold;
  TieCalibration best{-1.0, pairs.empty() ? 0.0 : double(correct) / double(pairs.size())};
  for (size_t i = 0; i < sorted.size();) {
    const double level = std::abs(sorted[i].margin);
    for (; i < sorted.size() && std::abs(sorted[i].margin) == level; ++i) {
      const ScoredPair& p = sorted[i];
      if (p.gold == 0) {
        ++correct;
      } else if (sign(p.margin) == p.gold) {
        --correct;
      }
    }
    const double accuracy = double(correct) / double(sorted.size());
    if (accuracy > best.accuracy) best = {level, accuracy};
  }
  return best;
}

BenchReport score_benchmark(const std::vector<ScoredPair>& all_pairs,
                            const std::vector<std::string>& supported_tasks) {
  std::vector<ScoredPair> pairs;
  for (const ScoredPair& p : all_pairs) {
    if (supported_tasks.empty() || std::find(supported_tasks.begin(), supported_tasks.end(),
                                             p.task) != supported_tasks.end()) {
      pairs.push_back(p);
    }
  }
  BenchReport report;
  for (const ScoredPair& p : pairs) {
    TaskReport& task = report.tasks[p.task];
    ++task.pairs;
    task.ties += p.gold == 0;
  }
  for (auto& [name, task] : report.tasks) {
    const std::vector<ScoredPair> mine = pairs_of_task(pairs, name, true);
    task.without_ties = accuracy_without_ties(mine);
    task.with_ties = calibrate_ties(mine);
    const std::vector<ScoredPair> others = pairs_of_task(pairs, name, false);
    // With a single task there is nothing to hold out: its own threshold is the fallback.
    task.held_out_threshold =
        others.empty() ? task.with_ties.threshold : calibrate_ties(others).threshold;
    task.with_ties_held_out = accuracy_with_ties(mine, task.held_out_threshold);
  }
  int64_t with_non_ties = 0;
  for (const auto& [name, task] : report.tasks) {
    if (task.without_ties.pairs == 0) continue;
    report.overall_without_ties += task.without_ties.value;
    ++with_non_ties;
  }
  if (with_non_ties > 0) report.overall_without_ties /= double(with_non_ties);
  if (!report.tasks.empty()) {
    const double n = double(report.tasks.size());
    for (const auto& [name, task] : report.tasks) {
      report.overall_with_ties += task.with_ties.accuracy / n;
      report.overall_with_ties_held_out += task.with_ties_held_out / n;
    }
  }
  return report;
}

}  // namespace omnirm::eval
