// ZeRO stage 1: the optimizer state is sharded across ranks. Each parameter has one owner
// rank, which alone keeps its optimizer state and applies its update; afterwards every rank
// receives every updated parameter from its owner. Gradients stay whole on every rank (they
// are averaged by GradSync first), so clipping sees the full gradient norm, and the update
// of each parameter is the same arithmetic as without sharding.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "omnirm/dist/communicator.h"

namespace omnirm::dist {

// The owner rank of each of `params`: largest first, each to the rank holding the fewest
// elements so far (ties to the lower rank). The same on every rank for the same shapes.
std::vector<int64_t> assign_owners(const std::vector<at::Tensor>& params, int64_t world_size);

class ParameterShards {
 public:
  // `params`: every trainable parameter, in the same order on every rank.
  ParameterShards(Communicator& comm, std::vector<at::Tensor> params);

  // This rank's parameters, in their original order: the ones its optimizer steps.
  const std::vector<at::Tensor>& owned() const { return owned_; }
  // After every rank updated its shard: copies each shard from its owner to all ranks.
  void gather();

 private:
  Communicator& comm_;
  std::vector<std::vector<at::Tensor>> by_owner_;  // [rank] → that rank's parameters
  std::vector<at::Tensor> owned_;
};

}  // namespace omnirm::dist
