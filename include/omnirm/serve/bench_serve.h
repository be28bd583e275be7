// `omnirm bench serve`: throughput and latency of the reward server on loopback. The server
// runs in-process on an ephemeral port; `concurrency` client threads, each on its own
// kept-alive connection, send `requests` score requests built from a pair file (each pair's
// prompt and criteria with its two responses). The pairs are split into two sets measured
// one after the other: text-only pairs, and pairs whose prompt holds an image (sent by path
// under the file's directory as --media-root, decoded by the server). Each set is sent twice
// in one run: with batching (the scheduler packs waiting requests up to the token budget)
// and without (one request per forward pass), the baseline of the ratio. The rewards of the
// two runs are compared as a check that batching changes no answer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace omnirm::serve {

struct BenchServeOptions {
  std::string model;  // checkpoint, run or export directory
  std::string data;   // pair JSONL; empty: the model's data.eval
  int64_t concurrency = 8;
  int64_t requests = 256;
  int64_t max_batch_tokens = 16384;
  int64_t max_length = 0;  // prompt + one response; 0: the model's data.max_length
};

struct ServeTiming {
  int64_t requests = 0;
  double seconds = 0.0;  // from the first timed request sent to the last reply
  double p50_ms = 0.0;
  double p99_ms = 0.0;
  int64_t batches = 0;  // forward passes during the timed requests
  double requests_per_second() const { return seconds > 0.0 ? double(requests) / seconds : 0.0; }
  double mean_batch() const { return batches > 0 ? double(requests) / double(batches) : 0.0; }
};

// One request set (text prompts, image prompts) measured with batching on and off.
struct ServeSetResult {
  std::string name;               // "text", "image prompt"
  int64_t distinct_requests = 0;  // usable pairs of the set (cycled through)
  int64_t skipped = 0;            // pairs too long for the model's max_length
  ServeTiming batched;
  ServeTiming unbatched;
  double max_reward_difference = 0.0;  // over every response, batched vs unbatched
  double speedup() const {
    return unbatched.requests_per_second() > 0.0
               ? batched.requests_per_second() / unbatched.requests_per_second()
               : 0.0;
  }
};

struct BenchServeResult {
  std::string data;
  int64_t concurrency = 0;
  int threads = 0;                   // intra-op threads of the model
  int64_t other_pairs = 0;           // pairs in neither set (media in the responses, audio, ...)
  std::vector<ServeSetResult> sets;  // the sets the data has, text first
};

BenchServeResult bench_serve(const BenchServeOptions& options);

std::string format_bench_serve(const BenchServeResult& result);

}  // namespace omnirm::serve
