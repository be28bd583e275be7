// Implementation of train/interval_stats.h.
#include "omnirm/train/interval_stats.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "omnirm/dist/communicator.h"

namespace omnirm::train {

void IntervalStats::add(const StepStats& step) {
  const at::Tensor values =
      at::stack({step.loss.to(at::kDouble), step.correct.to(at::kDouble),
                 step.reward_chosen.to(at::kDouble), step.reward_rejected.to(at::kDouble),
                 step.grad_norm.to(step.loss.device()).to(at::kDouble)});
  sums_ = sums_.defined() ? sums_ + values : values;
  ++steps_;
  pairs_ += step.pairs;
  data_tokens_ += step.data_tokens;
}

IntervalSummary IntervalStats::summary(dist::Communicator* comm) {
  IntervalSummary out;
  if (steps_ == 0) return out;
  // The host counts travel with the device sums, so one collective carries everything.
  at::Tensor all =
      at::cat({sums_, at::tensor({double(pairs_), double(data_tokens_)}, sums_.options())});
  const int64_t world = comm != nullptr ? comm->size() : 1;
  if (comm != nullptr) {
    dist::PendingCollective pending = comm->all_reduce(all, "the all-reduce of the step metrics");
    comm->wait(pending);
  }
  const at::Tensor host = all.cpu();  // the interval's one read
  const double* v = host.data_ptr<double>();
  out.steps = steps_;
  out.pairs = static_cast<int64_t>(v[5]);
  out.data_tokens = static_cast<int64_t>(v[6]);
  const double pairs = std::max<double>(v[5], 1.0);
  // Each rank's loss is its share of the global mean times the world size.
  out.loss = v[0] / double(world) / double(steps_);
  out.accuracy = v[1] / pairs;
  out.reward_chosen = v[2] / pairs;
  out.reward_rejected = v[3] / pairs;
  out.margin = (v[2] - v[3]) / pairs;
  // Every rank holds the same global norm.
  out.grad_norm = v[4] / double(world) / double(steps_);
  sums_ = at::Tensor();
  steps_ = pairs_ = data_tokens_ = 0;
  return out;
}

}  // namespace omnirm::train
