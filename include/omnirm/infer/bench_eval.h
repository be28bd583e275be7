// `omnirm bench eval`: evaluation throughput of a trained model with prefix sharing on and off,
// measured side by side in one run on the same pairs (the prompt encoded once per pair versus
// twice), with the rewards of the two layouts compared as a check that both score alike.
#pragma once

#include <cstdint>
#include <string>

namespace omnirm::infer {

struct EvalLayoutTiming {
  double seconds = 0.0;  // the fastest round
  int64_t pairs = 0;
  int64_t backbone_tokens = 0;  // tokens the backbone processed in one pass over the data
  double pairs_per_second() const { return seconds > 0.0 ? double(pairs) / seconds : 0.0; }
};

struct BenchEvalResult {
  std::string data;
  EvalLayoutTiming shared;             // prefix sharing on
  EvalLayoutTiming naive;              // two sequences per pair
  double max_reward_difference = 0.0;  // largest |r_shared − r_naive| over every response
  double speedup() const { return shared.pairs_per_second() / naive.pairs_per_second(); }
};

// Scores `data` (pair JSONL; empty: the model's data.eval) `rounds` times per layout,
// alternating layouts, after one untimed warm-up pass each; batch_pairs 0: eval.batch_pairs.
BenchEvalResult bench_eval(const std::string& model_dir, const std::string& data, int64_t rounds,
                           int64_t batch_pairs);

std::string format_bench_eval(const BenchEvalResult& result);

}  // namespace omnirm::infer
