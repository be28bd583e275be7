// The text-to-text generator behind data::synthesize (internal to omnirm_data).
#pragma once

#include <cstdint>

#include "omnirm/data/synth.h"

namespace omnirm::data {

// Train and eval pairs plus the tokenizer corpus for task t2t. Train and eval draw from
// disjoint (topic, question) combinations and from separate random streams of `seed`.
SynthSet synthesize_t2t(int64_t train_pairs, int64_t eval_pairs, uint64_t seed);

}  // namespace omnirm::data
