// Batching of score requests. Requests wait in a bounded FIFO queue; one model thread takes,
// in arrival order, as many waiting requests as fit in the token budget (stopping at the
// first that does not fit, so no request is overtaken), scores them with one call of the
// scorer, and answers each through its future. There is no added delay: requests that
// arrive while a batch is being scored form the next batch.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "omnirm/infer/scoring_row.h"

namespace omnirm::serve {

// One request's tokens and decoded media: a scoring row (its prompt once, then its responses).
using TokenizedRequest = infer::ScoringRow;

// Scores a batch: for each request, one reward per response, in order.
using BatchScorer =
    std::function<std::vector<std::vector<float>>(const std::vector<const TokenizedRequest*>&)>;

struct SchedulerOptions {
  int64_t max_batch_tokens = 16384;  // tokens of one batch (a larger request runs alone)
  int64_t max_queue = 256;           // requests waiting (not counting the batch in progress)
  int64_t max_batch_requests = 0;    // 0: only the token budget limits a batch; 1: no batching
};

struct SchedulerStats {
  int64_t queued = 0;    // waiting now
  int64_t batches = 0;   // scored so far
  int64_t requests = 0;  // answered so far
  int64_t largest_batch = 0;
};

enum class Refusal { none, queue_full, stopping };

struct Submission {
  Refusal refusal = Refusal::none;
  std::future<std::vector<float>> rewards;  // valid when refusal == none; rethrows what the
                                            // scorer threw for its batch
};

class BatchScheduler {
 public:
  BatchScheduler(const SchedulerOptions& options, BatchScorer scorer);
  ~BatchScheduler();  // stop()
  BatchScheduler(const BatchScheduler&) = delete;
  BatchScheduler& operator=(const BatchScheduler&) = delete;

  Submission submit(TokenizedRequest request);

  // Refuses new requests, scores everything queued, then ends the model thread. Idempotent.
  void stop();

  SchedulerStats stats() const;

 private:
  struct Job {
    TokenizedRequest request;
    std::promise<std::vector<float>> rewards;
  };

  void model_loop();
  std::vector<Job> take_batch();  // called with mutex_ held and the queue non-empty

  SchedulerOptions options_;
  BatchScorer scorer_;
  mutable std::mutex mutex_;
  std::condition_variable work_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  SchedulerStats stats_;
  std::thread model_thread_;
};

}  // namespace omnirm::serve
