// Learning-rate schedule: linear warmup, then cosine decay to lr * min_lr_ratio.
#pragma once

#include <cstdint>

#include "omnirm/core/config.h"

namespace omnirm::train {

// Learning rate of optimizer step `step` (0-based) out of `total_steps`.
double learning_rate_at(int64_t step, int64_t total_steps, const TrainConfig& config);

}  // namespace omnirm::train
