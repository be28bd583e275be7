// Where this process stands in a data-parallel run, read from the variables torchrun (and
// `omnirm launch`) set: RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT. With none of them set the process trains alone, as a world of one.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace omnirm::dist {

struct World {
  int64_t rank = 0;        // 0 .. size-1 over all nodes
  int64_t local_rank = 0;  // 0 .. local_size-1 on this node (picks the GPU)
  int64_t size = 1;
  int64_t local_size = 1;
  std::string master_addr;  // where rank 0 (or torchrun's agent) serves the TCPStore
  int64_t master_port = 0;
  // torchrun's agent already serves the store (TORCHELASTIC_USE_AGENT_STORE=True): every
  // rank connects as a client instead of rank 0 serving it.
  bool agent_store = false;

  bool distributed() const { return size > 1; }
  bool is_main() const { return rank == 0; }
};

// Reads the world from `lookup` (name → value, or null when unset). Throws UserError naming
// the variable when the set is incomplete or a value is out of range.
World world_from(const std::function<const char*(const char*)>& lookup);

// world_from(std::getenv).
World world_from_environment();

}  // namespace omnirm::dist
