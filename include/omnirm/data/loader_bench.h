// Measuring the loader: one epoch of read + parse + tokenize + pack, timed, with the peak
// resident memory the loader added. The measurement runs in a forked child process whose
// peak-RSS mark is reset first (/proc/self/clear_refs), so what it reports is the loader's
// own peak above the process it started from, whatever that process held before.
#pragma once

#include <cstdint>

#include "omnirm/data/loader.h"
#include "omnirm/data/stats.h"
#include "omnirm/text/tokenizer.h"

namespace omnirm::data {

struct LoaderBenchResult {
  int64_t pairs = 0;          // pairs handed out in the epoch
  int64_t packed_tokens = 0;  // tokens in the packed batches
  double index_seconds = 0.0;
  double epoch_seconds = 0.0;      // read + parse + tokenize + pack, after indexing (wall)
  double epoch_cpu_seconds = 0.0;  // the same in CPU time of the whole process (all threads)
  int64_t baseline_rss_bytes = 0;  // the child's resident memory before the loader
  int64_t peak_rss_bytes = 0;      // its peak while the loader ran, absolute
  int64_t index_bytes = 0;         // spans and plans the loader held
  int64_t truncated = 0;
  int64_t dropped = 0;
  LengthPercentiles prompt_tokens;  // after truncation, as handed out
  LengthPercentiles pair_tokens;

  double pairs_per_second() const { return epoch_seconds > 0 ? pairs / epoch_seconds : 0.0; }
  // Pairs per second of CPU time: the rate on one uncontended core when the work is on one
  // thread, whatever else the machine runs.
  double pairs_per_cpu_second() const {
    return epoch_cpu_seconds > 0 ? pairs / epoch_cpu_seconds : 0.0;
  }
  int64_t loader_peak_bytes() const { return peak_rss_bytes - baseline_rss_bytes; }
};

// One epoch of `options` (its `epochs` is set to 1), in this process.
LoaderBenchResult bench_loader_epoch(const text::Tokenizer& tokenizer, LoaderOptions options);

// The same in a forked child; throws std::runtime_error when the child fails.
LoaderBenchResult bench_loader_epoch_in_child(const text::Tokenizer& tokenizer,
                                              const LoaderOptions& options);

}  // namespace omnirm::data
