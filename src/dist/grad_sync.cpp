// Implementation of dist/grad_sync.h on c10d::Reducer, called in the order PyTorch's
// DistributedDataParallel calls it: buckets from compute_bucket_assignment_by_size reversed
// (gradients arrive from the last layer first), rebuild_buckets() before every forward,
// prepare_for_forward() and prepare_for_backward() only on the micro-step that syncs.
#include "omnirm/dist/grad_sync.h"

#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/reducer.hpp>

#include <algorithm>
#include <cmath>

namespace omnirm::dist {

GradSync::GradSync(Communicator& comm, std::vector<at::Tensor> params, double bucket_mb)
    : comm_(comm), params_(std::move(params)) {
  const auto process_group = comm_.process_group();
  comm_.guard("checking that every rank has the same parameters",
              [&] { c10d::verify_params_across_processes(process_group, params_, std::nullopt); });
  comm_.broadcast(params_, 0, "broadcast of the initial parameters from rank 0");

  const auto bucket_bytes = static_cast<size_t>(std::llround(bucket_mb * 1024.0 * 1024.0));
  const size_t first_bucket_bytes =
      std::min(bucket_bytes, static_cast<size_t>(c10d::kDefaultFirstBucketBytes));
  const std::vector<bool> sparse(params_.size(), false);
  auto [buckets, limits] =
      c10d::compute_bucket_assignment_by_size(params_, {first_bucket_bytes, bucket_bytes}, sparse);
  std::reverse(buckets.begin(), buckets.end());
  std::reverse(limits.begin(), limits.end());
  const std::vector<int64_t> limit_list(limits.begin(), limits.end());

  reducer_ = std::make_unique<c10d::Reducer>(
      params_, std::move(buckets), process_group, sparse, static_cast<int64_t>(bucket_bytes),
      /*find_unused_parameters=*/false, /*gradient_as_bucket_view=*/false,
      std::unordered_map<size_t, std::string>{}, static_cast<int64_t>(first_bucket_bytes),
      /*skip_all_reduce_unused_params=*/false, /*use_python_reducer=*/false, limit_list);
}

GradSync::~GradSync() = default;

void GradSync::before_forward(bool sync) {
  comm_.guard("rebuilding the gradient buckets", [&] { reducer_->rebuild_buckets(); });
  if (sync) reducer_->prepare_for_forward();
}

void GradSync::backward(const at::Tensor& loss, bool sync) {
  if (!sync) {
    loss.backward();
    return;
  }
  reducer_->prepare_for_backward({});
  comm_.guard("the gradient all-reduce during backward", [&] { loss.backward(); });
  int64_t bytes = 0;
  for (const at::Tensor& p : params_) bytes += p.numel() * int64_t(p.element_size());
  comm_.count_all_reduce(bytes);
}

std::vector<int64_t> GradSync::bucket_numels() const {
  std::vector<int64_t> numels;
  for (const c10d::GradBucket& bucket : reducer_->get_grad_buckets(/*return_zero_tensors=*/true)) {
    numels.push_back(bucket.getBuffer().numel());
  }
  return numels;
}

}  // namespace omnirm::dist
