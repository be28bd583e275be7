// Helpers of the serve unit tests: a small tokenizer trained in a scratch directory, a tiny
// randomly initialised reward model, and random tokenized requests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "omnirm/model/reward_model.h"
#include "omnirm/serve/score_request.h"
#include "omnirm/text/tokenizer.h"

namespace omnirm::serve::testing {

// A 300-piece sentencepiece model trained on a few hundred generated English lines; the same
// for every call in one process (trained once).
const text::Tokenizer& test_tokenizer();

// A 2-layer, 32-wide text model over `vocab` ids, initialised from seed `seed` with a wide
// init_std, so rewards differ visibly between inputs. `backend`: the attention backend.
model::RewardModel tiny_model(int64_t vocab, uint64_t seed,
                              const std::string& backend = "reference");

// A request of a `prompt`-token prompt and one response per entry of `responses` (lengths),
// ids drawn from the global torch generator in [0, vocab).
TokenizedRequest random_request(int64_t vocab, int64_t prompt,
                                const std::vector<int64_t>& responses);

}  // namespace omnirm::serve::testing
