// `omnirm bench train`: training throughput with prefix sharing on and off, measured side by
// side in one run on the same batches from the same initial weights.
#pragma once

#include <cstdint>
#include <string>

#include "omnirm/core/config.h"

namespace omnirm::train {

struct LayoutThroughput {
  double seconds = 0.0;
  int64_t pairs = 0;
  int64_t data_tokens = 0;      // P + C + R per pair, the same for both layouts
  int64_t backbone_tokens = 0;  // what the backbone actually processed
  double pairs_per_second() const { return double(pairs) / seconds; }
  double tokens_per_second() const { return double(data_tokens) / seconds; }
};

struct BenchTrainResult {
  LayoutThroughput shared;  // pair-prefix layout
  LayoutThroughput naive;   // two sequences per pair
  double speedup() const { return shared.pairs_per_second() / naive.pairs_per_second(); }
  // The work ratio the layout saves in backbone tokens: naive / shared.
  double token_ratio() const {
    return double(naive.backbone_tokens) / double(shared.backbone_tokens);
  }
};

// Runs `warmup` untimed then `steps` timed optimizer steps for each layout, repeated `rounds`
// times alternating the layouts (the fastest round of each counts).
BenchTrainResult bench_train(const Config& config, int64_t steps, int64_t warmup, int64_t rounds);

std::string format_bench_train(const BenchTrainResult& result);

}  // namespace omnirm::train
