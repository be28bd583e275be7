// Helpers of the serve unit tests: a small tokenizer trained in a scratch directory, a tiny
// randomly initialised reward model, random tokenized requests, and a gate that holds the
// model thread so that a test knows what is queued when a batch is taken.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "omnirm/model/reward_model.h"
#include "omnirm/serve/batch_scheduler.h"
#include "omnirm/serve/score_request.h"
#include "omnirm/text/tokenizer.h"
#include "support/tiny_reward_model.h"

namespace omnirm::serve::testing {

// A 300-piece sentencepiece model trained on a few hundred generated English lines; the same
// for every call in one process (trained once).
const text::Tokenizer& test_tokenizer();

// The shared tiny text reward model (tests/support/tiny_reward_model.h).
using omnirm::testing::tiny_model;

// A request of a `prompt`-token prompt and one response per entry of `responses` (lengths),
// ids drawn from the global torch generator in [0, vocab).
TokenizedRequest random_request(int64_t vocab, int64_t prompt,
                                const std::vector<int64_t>& responses);

// Holds every batch until opened, then scores it with `real`; records the prompts of each
// batch's requests.
class GatedScorer {
 public:
  explicit GatedScorer(BatchScorer real) : real_(std::move(real)) {}

  BatchScorer scorer();                 // the gated scorer; valid while this object lives
  void open();                          // lets the held batch and every later one through
  void wait_for_batches(size_t count);  // until `count` batches have reached the gate
  // The prompts of each batch's requests, in batch order.
  std::vector<std::vector<std::vector<int32_t>>> batches();

 private:
  BatchScorer real_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
  std::vector<std::vector<std::vector<int32_t>>> batches_;
};

}  // namespace omnirm::serve::testing
