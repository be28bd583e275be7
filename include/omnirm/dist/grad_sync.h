// Data-parallel gradient averaging through c10d's Reducer, the engine behind PyTorch's
// DistributedDataParallel: gradients are copied into buckets as backward produces them, and
// each full bucket is all-reduced while the rest of backward still runs. The Reducer is not
// a stable public API, so this adapter is the only code that touches it.
//
// Per optimizer step, on every rank, for each micro-step k of n:
//   before_forward(k == n - 1); forward; backward(loss, k == n - 1);
// Only the last micro-step's backward communicates; the earlier ones accumulate locally.
// After it returns every rank holds the average of the ranks' accumulated gradients.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "omnirm/dist/communicator.h"

namespace c10d {
class Reducer;
}

namespace omnirm::dist {

class GradSync {
 public:
  // `params`: every trainable parameter of the model, in the same order on every rank. Their
  // values are first broadcast from rank 0, so all ranks start from the same weights.
  // Buckets hold at most `bucket_mb` MiB (the first, filled by the last layers, 1 MiB).
  GradSync(Communicator& comm, std::vector<at::Tensor> params, double bucket_mb);
  ~GradSync();
  GradSync(const GradSync&) = delete;
  GradSync& operator=(const GradSync&) = delete;

  // Call before each micro-step's forward; `sync` marks the micro-step whose backward
  // averages the gradients.
  void before_forward(bool sync);
  // loss.backward(); with `sync`, leaves the gradients averaged over all ranks.
  void backward(const at::Tensor& loss, bool sync);

  // Elements per communication bucket, in the order they are reduced.
  std::vector<int64_t> bucket_numels() const;

 private:
  Communicator& comm_;
  std::vector<at::Tensor> params_;
  std::unique_ptr<c10d::Reducer> reducer_;
};

}  // namespace omnirm::dist
