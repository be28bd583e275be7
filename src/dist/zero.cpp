// Implementation of dist/zero.h.
#include "omnirm/dist/zero.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <numeric>

namespace omnirm::dist {

std::vector<int64_t> assign_owners(const std::vector<at::Tensor>& params, int64_t world_size) {
  std::vector<size_t> by_size(params.size());
  std::iota(by_size.begin(), by_size.end(), 0);
  std::stable_sort(by_size.begin(), by_size.end(),
                   [&](size_t a, size_t b) { return params[a].numel() > params[b].numel(); });
  std::vector<int64_t> load(static_cast<size_t>(world_size), 0);
  std::vector<int64_t> owner(params.size(), 0);
  for (size_t index : by_size) {
    const auto lightest = std::min_element(load.begin(), load.end()) - load.begin();
    owner[index] = lightest;
    load[static_cast<size_t>(lightest)] += params[index].numel();
  }
  return owner;
}

ParameterShards::ParameterShards(Communicator& comm, std::vector<at::Tensor> params)
    : comm_(comm), by_owner_(static_cast<size_t>(comm.size())) {
  const std::vector<int64_t> owner = assign_owners(params, comm.size());
  for (size_t i = 0; i < params.size(); ++i) {
    by_owner_[static_cast<size_t>(owner[i])].push_back(params[i]);
  }
  owned_ = by_owner_[static_cast<size_t>(comm.rank())];
}

void ParameterShards::gather() {
  for (size_t root = 0; root < by_owner_.size(); ++root) {
    if (by_owner_[root].empty()) continue;
    comm_.broadcast(by_owner_[root], static_cast<int64_t>(root),
                    "the gather of updated parameter shards (ZeRO-1)");
  }
}

}  // namespace omnirm::dist
