// Accuracy reports of the benchmarks scored by categories rather than by tie calibration:
//   vl-rewardbench          accuracy per category (general, hallucination, reasoning), the
//                           overall accuracy over all pairs and the macro average over the
//                           categories present;
//   multimodal-rewardbench  accuracy per category, overall over all pairs, macro average;
//   rewardbench             accuracy per subset, the four section scores — Chat, Chat Hard,
//                           Safety, Reasoning — each the average of its subsets' accuracies
//                           weighted by the benchmark's official subset sizes (math-prm
//                           weighted up to the size of the code subsets together), and the
//                           overall score, the mean of the sections present.
// A pair is right when r(chosen) > r(rejected); m = 0 counts as wrong (the benchmarks'
// scalar-model scripts compare with a strict >). Gold ties do not occur in these benchmarks
// and are left out if present.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "omnirm/eval/report.h"

namespace omnirm::eval {

struct GroupAccuracy {
  int64_t pairs = 0;
  int64_t correct = 0;
  double value() const { return pairs > 0 ? double(correct) / double(pairs) : 0.0; }
};

struct CategoryReport {
  std::string benchmark;  // "vl-rewardbench", "multimodal-rewardbench", "rewardbench"
  std::map<std::string, GroupAccuracy> categories;       // by PairResult::category
  std::vector<std::pair<std::string, double>> sections;  // RewardBench only, in [0, 1]
  std::vector<std::pair<std::string, double>> headline;  // "overall", then "macro" (not RB)
};

// `benchmark` is one of the three names above; throws UserError for another.
CategoryReport score_by_category(const std::string& benchmark,
                                 const std::vector<PairResult>& results);

// RewardBench's section of a subset ("Chat", "Chat Hard", "Safety", "Reasoning"), "" if
// none, and the subset's official size (0 when unknown).
std::string rewardbench_section(const std::string& subset);
int64_t rewardbench_subset_size(const std::string& subset);

// Flat metrics: "overall", "macro", "category/<name>", "section/<name>" (lower case, spaces
// as underscores), in [0, 1].
std::map<std::string, double> category_metrics(const CategoryReport& report);

std::string category_table(const CategoryReport& report);  // console
std::string category_markdown(const CategoryReport& report);
std::string category_json(const CategoryReport& report);

// Writes scores.jsonl, report.json, report.md and accuracy.png into `dir` (created); the
// report states `coverage` (both denominators and every item not scored).
void write_category_outputs(const std::string& dir, const std::vector<PairResult>& results,
                            const CategoryReport& report, const Coverage& coverage);

// Flat metrics of an Omni-RewardBench report: "overall_with_ties", "overall_without_ties",
// "overall_with_ties_held_out", "<task>/with_ties", "<task>/without_ties".
std::map<std::string, double> bench_report_metrics(const BenchReport& report);

}  // namespace omnirm::eval
