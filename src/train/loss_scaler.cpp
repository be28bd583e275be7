// Implementation of train/loss_scaler.h.
#include "omnirm/train/loss_scaler.h"

#include <algorithm>

namespace omnirm::train {

LossScaler::LossScaler(bool enabled, LossScalerOptions options)
    : enabled_(enabled), options_(options), scale_(options.initial_scale) {}

bool LossScaler::update(bool grads_finite) {
  if (!enabled_) return true;
  if (!grads_finite) {
    scale_ = std::max(options_.min_scale, scale_ * options_.backoff_factor);
    clean_steps_ = 0;
    ++skipped_steps_;
    return false;
  }
  if (++clean_steps_ >= options_.growth_interval) {
    scale_ *= options_.growth_factor;
    clean_steps_ = 0;
  }
  return true;
}

void LossScaler::restore(double scale, int64_t skipped_steps) {
  scale_ = scale;
  skipped_steps_ = skipped_steps;
  clean_steps_ = 0;
}

}  // namespace omnirm::train
