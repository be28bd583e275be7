// Implementation of infer/bench_eval.h.
#include "omnirm/infer/bench_eval.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <chrono>
#include <cmath>

#include "omnirm/core/error.h"
#include "omnirm/infer/encoded_dataset.h"
#include "omnirm/infer/loaded_model.h"
#include "omnirm/infer/pair_scoring.h"

namespace omnirm::infer {
namespace {

struct TimedScores {
  double seconds = 0.0;
  std::vector<eval::PairScore> scores;
};

TimedScores timed_scoring(model::RewardModelImpl& model, const EncodedDataset& dataset,
                          int64_t batch_pairs, bool prefix_sharing) {
  const auto start = std::chrono::steady_clock::now();
  TimedScores timed;
  timed.scores = score_pairs(model, dataset, batch_pairs, prefix_sharing, at::Device(at::kCPU));
  timed.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return timed;
}

int64_t backbone_tokens(const EncodedDataset& dataset, bool prefix_sharing) {
  int64_t tokens = 0;
  for (const EncodedPair& pair : dataset.pairs) tokens += pair.packed_tokens(prefix_sharing);
  return tokens;
}

}  // namespace

BenchEvalResult bench_eval(const std::string& model_dir, const std::string& data, int64_t rounds,
                           int64_t batch_pairs) {
  if (rounds < 1) throw UserError("bench eval: --rounds must be at least 1");
  LoadedModel loaded = load_model_dir(model_dir);
  if (loaded.config.train.threads > 0) {
    at::set_num_threads(static_cast<int>(loaded.config.train.threads));
  }
  BenchEvalResult result;
  result.data = data.empty() ? loaded.config.data.eval : data;
  if (result.data.empty()) {
    throw UserError("bench eval: no -d given and the model's config has no data.eval");
  }
  const EncodedDataset dataset = load_encoded_dataset(result.data, loaded.tokenizer, loaded.config,
                                                      /*keep_ties=*/true, DatasetUse::scoring);
  if (dataset.pairs.empty()) throw UserError("bench eval: " + result.data + " has no usable pair");
  const int64_t batch = batch_pairs > 0 ? batch_pairs : loaded.config.eval.batch_pairs;
  model::RewardModelImpl& model = *loaded.model;

  // Warm-up passes (allocator, caches), which also give the rewards to compare.
  const TimedScores shared = timed_scoring(model, dataset, batch, true);
  const TimedScores naive = timed_scoring(model, dataset, batch, false);
  for (size_t i = 0; i < shared.scores.size(); ++i) {
    const eval::PairScore& a = shared.scores[i];
    const eval::PairScore& b = naive.scores[i];
    result.max_reward_difference =
        std::max({result.max_reward_difference, double(std::abs(a.chosen - b.chosen)),
                  double(std::abs(a.rejected - b.rejected))});
  }
  for (int64_t round = 0; round < rounds; ++round) {
    for (const bool sharing : {true, false}) {
      const double seconds = timed_scoring(model, dataset, batch, sharing).seconds;
      EvalLayoutTiming& timing = sharing ? result.shared : result.naive;
      if (timing.seconds == 0.0 || seconds < timing.seconds) timing.seconds = seconds;
    }
  }
  for (const bool sharing : {true, false}) {
    EvalLayoutTiming& timing = sharing ? result.shared : result.naive;
    timing.pairs = dataset.size();
    timing.backbone_tokens = backbone_tokens(dataset, sharing);
  }
  return result;
}

std::string format_bench_eval(const BenchEvalResult& r) {
  std::string out = fmt::format("{:<22} {:>10} {:>10} {:>16}\n", "layout", "pairs/s", "seconds",
                                "backbone tokens");
  auto row = [&](const char* name, const EvalLayoutTiming& t) {
    out += fmt::format("{:<22} {:>10.1f} {:>10.3f} {:>16}\n", name, t.pairs_per_second(), t.seconds,
                       t.backbone_tokens);
  };
  row("prefix sharing on", r.shared);
  row("prefix sharing off", r.naive);
  out += fmt::format(
      "speedup (on / off): {:.3f}x   backbone tokens off / on: {:.3f}x   largest reward "
      "difference between the layouts: {:.2e}\n",
      r.speedup(), double(r.naive.backbone_tokens) / double(r.shared.backbone_tokens),
      r.max_reward_difference);
  return out;
}

}  // namespace omnirm::infer
