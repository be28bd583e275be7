// Implementation of eval/pair_metrics.h.
#include "omnirm/eval/pair_metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace omnirm::eval {

EvalMetrics summarize_scores(const std::vector<PairScore>& scores) {
  EvalMetrics m;
  double sum_rewards = 0.0, sum_squares = 0.0;
  int64_t correct = 0;
  for (const PairScore& s : scores) {
    if (s.tie) {
      ++m.ties;
      continue;
    }
    ++m.pairs;
    const double gap = double(s.chosen) - double(s.rejected);
    // -log σ(gap), stable for any gap.
    m.loss += std::max(-gap, 0.0) + std::log1p(std::exp(-std::abs(gap)));
    const bool right = gap > 0.0;
    correct += right;
    m.margin += gap;
    m.chosen_mean += s.chosen;
    m.rejected_mean += s.rejected;
    sum_rewards += double(s.chosen) + double(s.rejected);
    sum_squares += double(s.chosen) * s.chosen + double(s.rejected) * s.rejected;
    PairAccuracy& task = m.by_task[s.task];
    task.correct += right;
    ++task.total;
    for (const std::string& tag : s.tags) {
      m.by_tag[tag].correct += right;
      ++m.by_tag[tag].total;
    }
  }
  if (m.pairs > 0) {
    const double n = double(m.pairs);
    m.loss /= n;
    m.accuracy = double(correct) / n;
    m.margin /= n;
    m.chosen_mean /= n;
    m.rejected_mean /= n;
    const double mean = sum_rewards / (2 * n);
    m.reward_std = std::sqrt(std::max(0.0, sum_squares / (2 * n) - mean * mean));
  }
  return m;
}

nlohmann::json metrics_json(const EvalMetrics& m, const std::string& prefix) {
  nlohmann::json json = {{prefix + "pairs", m.pairs},
                         {prefix + "ties", m.ties},
                         {prefix + "loss", m.loss},
                         {prefix + "accuracy", m.accuracy},
                         {prefix + "margin", m.margin},
                         {prefix + "reward_chosen", m.chosen_mean},
                         {prefix + "reward_rejected", m.rejected_mean},
                         {prefix + "reward_std", m.reward_std}};
  for (const auto& [task, acc] : m.by_task) json[prefix + "accuracy/task/" + task] = acc.value();
  for (const auto& [tag, acc] : m.by_tag) json[prefix + "accuracy/tag/" + tag] = acc.value();
  return json;
}

std::string format_metrics_table(const EvalMetrics& m) {
  std::string out;
  out += fmt::format("  pairs {:>6}   loss {:.4f}   accuracy {:.4f}   margin {:+.3f}\n", m.pairs,
                     m.loss, m.accuracy, m.margin);
  out += fmt::format("  reward chosen {:+.3f}   rejected {:+.3f}   std {:.3f}   ties {}\n",
                     m.chosen_mean, m.rejected_mean, m.reward_std, m.ties);
  auto section = [&](const char* title, const std::map<std::string, PairAccuracy>& rows) {
    if (rows.empty()) return;
    out += fmt::format("  {:<16} {:>8} {:>8}\n", title, "pairs", "accuracy");
    for (const auto& [name, acc] : rows) {
      out += fmt::format("  {:<16} {:>8} {:>8.4f}\n", name, acc.total, acc.value());
    }
  };
  section("task", m.by_task);
  section("tag", m.by_tag);
  return out;
}

}  // namespace omnirm::eval
