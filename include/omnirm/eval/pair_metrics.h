// The metrics users expect of a Bradley–Terry reward model on scored pairs: loss, accuracy,
// margin, chosen/rejected reward means, reward std — overall, per task and per tag (e.g. the
// synthetic set's "criteria_flip" pairs). Ties are counted, never scored here (the benchmark
// metrics of eval/bench_metrics.h score them).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace omnirm::eval {

struct PairScore {
  std::string id;
  std::string task;
  std::vector<std::string> tags;
  bool tie = false;
  float chosen = 0.0f;    // reward of the chosen (or first, for ties) response
  float rejected = 0.0f;  // reward of the rejected (or second) response
};

// Right answers among the non-tie pairs of a task or tag.
struct PairAccuracy {
  int64_t correct = 0;
  int64_t total = 0;
  double value() const { return total > 0 ? double(correct) / double(total) : 0.0; }
};

struct EvalMetrics {
  int64_t pairs = 0;      // non-tie pairs scored
  int64_t ties = 0;       // tie pairs (not in the accuracy; see the benchmark evaluation)
  double loss = 0.0;      // mean -log σ(r_c − r_r)
  double accuracy = 0.0;  // r_c > r_r strictly
  double margin = 0.0;    // mean r_c − r_r
  double chosen_mean = 0.0;
  double rejected_mean = 0.0;
  double reward_std = 0.0;  // over all 2·pairs rewards
  std::map<std::string, PairAccuracy> by_task;
  std::map<std::string, PairAccuracy> by_tag;
};

EvalMetrics summarize_scores(const std::vector<PairScore>& scores);

// The metrics as flat JSON, every key prefixed with `prefix` (e.g. "eval/"): pairs, ties,
// loss, accuracy, margin, reward_chosen, reward_rejected, reward_std, accuracy/task/<task>,
// accuracy/tag/<tag>.
nlohmann::json metrics_json(const EvalMetrics& metrics, const std::string& prefix);

// A small console table: overall metrics, then accuracy per task and per tag.
std::string format_metrics_table(const EvalMetrics& metrics);

}  // namespace omnirm::eval
