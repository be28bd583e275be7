// Dynamic loss scaling for fp16 training: the loss is multiplied by a scale before the
// backward pass so small gradients survive fp16; the gradients are divided by it before
// clipping and the update. A step whose gradients overflow (inf or NaN) is skipped and the
// scale halved; after `growth_interval` clean steps in a row the scale doubles.
// bf16 and fp32 need no scaling (scale 1, never skips).
#pragma once

#include <cstdint>

namespace omnirm::train {

struct LossScalerOptions {
  double initial_scale = 65536.0;  // 2^16
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;
  double min_scale = 1.0;
};

class LossScaler {
 public:
  // enabled false: scale() is 1 and update() never skips (fp32 / bf16).
  explicit LossScaler(bool enabled, LossScalerOptions options = {});

  bool enabled() const { return enabled_; }
  double scale() const { return enabled_ ? scale_ : 1.0; }
  int64_t skipped_steps() const { return skipped_steps_; }

  // After the gradients of a step are unscaled: `grads_finite` false means the step must be
  // skipped. Returns whether to apply the update, and adjusts the scale.
  bool update(bool grads_finite);

  // Restores a saved scale (a resumed run).
  void restore(double scale, int64_t skipped_steps);

 private:
  bool enabled_;
  LossScalerOptions options_;
  double scale_;
  int64_t clean_steps_ = 0;
  int64_t skipped_steps_ = 0;
};

}  // namespace omnirm::train
