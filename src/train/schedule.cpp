// Implementation of train/schedule.h.
#include "omnirm/train/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace omnirm::train {

double learning_rate_at(int64_t step, int64_t total_steps, const TrainConfig& config) {
  const auto warmup = static_cast<int64_t>(std::ceil(config.warmup_ratio * double(total_steps)));
  if (step < warmup) return config.lr * double(step + 1) / double(warmup);
  const double progress =
      double(step - warmup) / double(std::max<int64_t>(1, total_steps - warmup));
  const double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * std::min(1.0, progress)));
  return config.lr * (config.min_lr_ratio + (1.0 - config.min_lr_ratio) * cosine);
}

}  // namespace omnirm::train
