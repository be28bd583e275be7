// The training statistics of one log interval: each step's device tensors (train/step.h) are
// added up on the device, and the sums are all-reduced over the ranks and read on the host
// once, when the interval is reported. Nothing here waits for the device before summary().
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>

#include "omnirm/train/step.h"

namespace omnirm::dist {
class Communicator;
}

namespace omnirm::train {

// Means over the steps (and pairs) of an interval, every rank's share included.
struct IntervalSummary {
  int64_t steps = 0;
  int64_t pairs = 0;
  int64_t data_tokens = 0;
  double loss = 0.0;             // mean over the steps of each step's mean BT loss
  double accuracy = 0.0;         // pairs with r_c > r_r / pairs
  double reward_chosen = 0.0;    // mean r_c
  double reward_rejected = 0.0;  // mean r_r
  double margin = 0.0;           // mean r_c − r_r
  double grad_norm = 0.0;        // mean over the steps
};

class IntervalStats {
 public:
  void add(const StepStats& step);
  int64_t steps() const { return steps_; }
  // Every rank calls it at the same step (one all-reduce when `comm` is set); the sums restart.
  IntervalSummary summary(dist::Communicator* comm);

 private:
  at::Tensor sums_;  // [loss, correct, reward_chosen, reward_rejected, grad_norm] fp64
  int64_t steps_ = 0;
  int64_t pairs_ = 0;
  int64_t data_tokens_ = 0;
};

}  // namespace omnirm::train
