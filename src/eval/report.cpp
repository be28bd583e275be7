// Implementation of eval/report.h.
#include "omnirm/eval/report.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "omnirm/core/error.h"
#include "omnirm/eval/accuracy_chart.h"

namespace omnirm::eval {

namespace {

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw UserError("cannot write " + path + ": check the directory is writable");
  out << text;
}

std::string pct(double value) { return fmt::format("{:.2f}", 100.0 * value); }

}  // namespace

std::vector<ScoredPair> to_scored_pairs(const std::vector<PairResult>& results) {
  std::vector<ScoredPair> pairs;
  pairs.reserve(results.size());
  for (const PairResult& r : results) pairs.push_back({r.task, r.reward1 - r.reward2, r.gold});
  return pairs;
}

const std::map<std::string, double>& paper_bt_with_ties() {
  static const std::map<std::string, double> figures = {
      {"t2t", 0.7530}, {"ti2t", 0.6023}, {"tv2t", 0.6885}, {"ta2t", 0.7059}, {"t2i", 0.5835},
      {"t2v", 0.6408}, {"t2a", 0.6399},  {"t23d", 0.6788}, {"ti2i", 0.5895}};
  return figures;
}

void write_pair_scores_jsonl(const std::string& path, const std::vector<PairResult>& results) {
  std::string text;
  for (const PairResult& r : results) {
    nlohmann::ordered_json line = {{"id", r.id},
                                   {"task", r.task},
                                   {"reward1", r.reward1},
                                   {"reward2", r.reward2},
                                   {"margin", r.reward1 - r.reward2},
                                   {"gold", r.gold}};
    if (!r.category.empty()) line["category"] = r.category;
    text += line.dump();
    text += '\n';
  }
  write_text(path, text);
}

std::string report_table(const BenchReport& report) {
  std::string out =
      fmt::format("  {:<8} {:>6} {:>5} {:>10} {:>10} {:>10} {:>12}\n", "task", "pairs", "ties",
                  "w/o ties", "w/ ties", "threshold", "w/ ties (ho)");
  for (const auto& [name, t] : report.tasks) {
    out += fmt::format("  {:<8} {:>6} {:>5} {:>10} {:>10} {:>10.4g} {:>12}\n", name, t.pairs,
                       t.ties, t.without_ties.pairs > 0 ? pct(t.without_ties.value) : "-",
                       pct(t.with_ties.accuracy), t.with_ties.threshold, pct(t.with_ties_held_out));
  }
  out += fmt::format("  {:<8} {:>6} {:>5} {:>10} {:>10} {:>10} {:>12}\n", "overall", "", "",
                     pct(report.overall_without_ties), pct(report.overall_with_ties), "",
                     pct(report.overall_with_ties_held_out));
  return out;
}

std::string report_markdown(const BenchReport& report, bool with_paper_reference) {
  std::string out = "| task | pairs | ties | w/o Ties | w/ Ties | w/ Ties (held-out threshold) |";
  out += with_paper_reference ? " paper BT w/ Ties |\n|---|---|---|---|---|---|---|\n"
                              : "\n|---|---|---|---|---|---|\n";
  const auto& paper = paper_bt_with_ties();
  for (const auto& [name, t] : report.tasks) {
    out += fmt::format("| {} | {} | {} | {} | {} | {} |", name, t.pairs, t.ties,
                       t.without_ties.pairs > 0 ? pct(t.without_ties.value) : "-",
                       pct(t.with_ties.accuracy), pct(t.with_ties_held_out));
    if (with_paper_reference) {
      out += paper.count(name) ? fmt::format(" {} |", pct(paper.at(name))) : " - |";
    }
    out += "\n";
  }
  out += fmt::format("| **overall** | | | {} | {} | {} |", pct(report.overall_without_ties),
                     pct(report.overall_with_ties), pct(report.overall_with_ties_held_out));
  out += with_paper_reference ? " 65.36 |\n" : "\n";
  return out;
}

std::string report_json(const BenchReport& report) {
  nlohmann::ordered_json json;
  for (const auto& [name, t] : report.tasks) {
    json["tasks"][name] = {{"pairs", t.pairs},
                           {"ties", t.ties},
                           {"without_ties", t.without_ties.value},
                           {"non_tie_pairs", t.without_ties.pairs},
                           {"with_ties", t.with_ties.accuracy},
                           {"tie_threshold", t.with_ties.threshold},
                           {"with_ties_held_out", t.with_ties_held_out},
                           {"held_out_threshold", t.held_out_threshold}};
  }
  json["overall"] = {{"without_ties", report.overall_without_ties},
                     {"with_ties", report.overall_with_ties},
                     {"with_ties_held_out", report.overall_with_ties_held_out}};
  return json.dump(2) + "\n";
}

void write_report_chart(const std::string& path, const BenchReport& report,
                        bool with_paper_reference) {
  std::vector<std::string> categories;
  ChartSeries ours{"omnirm w/ ties", {}, {66, 133, 244}};
  ChartSeries paper{"Omni-RewardModel-BT (paper)", {}, {244, 160, 0}};
  for (const auto& [name, t] : report.tasks) {
    categories.push_back(name);
    ours.values.push_back(t.with_ties.accuracy);
    const auto it = paper_bt_with_ties().find(name);
    paper.values.push_back(it == paper_bt_with_ties().end() ? std::nan("") : it->second);
  }
  std::vector<ChartSeries> series = {ours};
  if (with_paper_reference) series.push_back(paper);
  draw_accuracy_chart("Accuracy per task (w/ ties)", categories, series).save_png(path);
}

void write_eval_outputs(const std::string& dir, const std::vector<PairResult>& results,
                        const BenchReport& report, bool with_paper_reference,
                        const Coverage& coverage) {
  std::filesystem::create_directories(dir);
  write_pair_scores_jsonl(dir + "/scores.jsonl", results);
  write_text(dir + "/report.json", add_coverage_json(report_json(report), coverage));
  write_text(dir + "/report.md",
             report_markdown(report, with_paper_reference) + coverage_markdown(coverage));
  write_report_chart(dir + "/accuracy.png", report, with_paper_reference);
}

}  // namespace omnirm::eval
