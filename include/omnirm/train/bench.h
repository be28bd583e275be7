// `omnirm bench train`: training throughput with prefix sharing on and off, measured side by
// side in one run on the same batches from the same initial weights, beside the ideal: the
// ratio of the work each layout needs. Work is estimated in training FLOPs (forward and
// backward, 6 per weight per token) over the backbone's weights, its attention (4·d per
// allowed query–key pair per layer, times 3) and each adapter's weights times the sequence
// it runs over (patches, mel frames, point groups).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "omnirm/core/config.h"
#include "omnirm/train/dataset.h"

namespace omnirm::train {

struct LayoutThroughput {
  double seconds = 0.0;
  int64_t pairs = 0;
  int64_t data_tokens = 0;      // P + C + R per pair, the same for both layouts
  int64_t backbone_tokens = 0;  // what the backbone actually processed
  int64_t media_items = 0;      // adapter inputs encoded
  double work_flops = 0.0;      // estimated training FLOPs: backbone, attention and adapters
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
  // The ideal speedup: estimated training FLOPs without sharing over those with it.
  double ideal_speedup() const { return naive.work_flops / shared.work_flops; }
};

// A training benchmark's data: data.train encoded (at least one global batch of it, else a
// UserError) and the model's vocabulary size under data.tokenizer.
struct BenchDataset {
  EncodedDataset dataset;
  int64_t vocab_size = 0;
};
BenchDataset load_bench_dataset(const Config& config);

// The dataset indices of global batch `step` of a benchmark: consecutive slices of `order`
// (a seeded epoch order), wrapping around.
std::vector<int64_t> bench_batch_indices(const std::vector<int64_t>& order, int64_t step,
                                         int64_t batch_pairs);

// Runs `warmup` untimed then `steps` timed optimizer steps for each layout, repeated `rounds`
// times alternating the layouts (the fastest round of each counts).
BenchTrainResult bench_train(const Config& config, int64_t steps, int64_t warmup, int64_t rounds);

std::string format_bench_train(const BenchTrainResult& result);

}  // namespace omnirm::train
