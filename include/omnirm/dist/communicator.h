// One process's membership in a data-parallel group: the TCPStore rendezvous at
// MASTER_ADDR:MASTER_PORT and a c10d process group whose backend follows the device (NCCL
// for CUDA, Gloo for CPU; dist.backend overrides). Every collective is named by its caller,
// and a collective that fails or waits longer than dist.timeout throws one runtime_error
// saying which operation on which rank did not complete, instead of hanging.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/util/intrusive_ptr.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "omnirm/core/config.h"
#include "omnirm/dist/world.h"

namespace c10d {
class ProcessGroup;
}

namespace omnirm::dist {

// Bytes handed to collectives since the last reset, by kind: the tensor sizes (all-reduce:
// the buffer; reduce-scatter: its full input; all-gather: its full output; broadcast: what
// the root sends). ring_bytes() turns them into what each rank sends with ring algorithms:
// 2(W−1)/W of an all-reduce, (W−1)/W of a reduce-scatter or all-gather.
struct CollectiveTraffic {
  int64_t all_reduce = 0;
  int64_t reduce_scatter = 0;
  int64_t all_gather = 0;
  int64_t broadcast = 0;
  double ring_bytes(int64_t world_size) const;
};

// A collective launched and not yet waited for (Communicator::wait).
class PendingCollective {
 public:
  PendingCollective();
  ~PendingCollective();
  PendingCollective(PendingCollective&&) noexcept;
  PendingCollective& operator=(PendingCollective&&) noexcept;
  bool defined() const;

 private:
  friend class Communicator;
  struct Work;
  std::unique_ptr<Work> work_;
};

// "gloo" or "nccl" for dist.backend on `device`. Throws UserError for NCCL on a CPU device
// or in a build without NCCL.
std::string resolve_backend(const std::string& configured, at::Device device);

// The device a rank trains on: cuda:LOCAL_RANK when `device_type` is CUDA, else the CPU.
at::Device local_device(const World& world, at::DeviceType device_type);

class Communicator {
 public:
  // Joins the group described by `world` (which must be distributed). Blocks until every
  // rank has joined, or fails after dist.timeout.
  Communicator(const World& world, const DistConfig& config, at::Device device);
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int64_t rank() const;
  int64_t size() const;
  at::Device device() const;
  const std::string& backend() const;  // "gloo" | "nccl"
  std::chrono::milliseconds timeout() const;
  // The c10d process group, for c10d APIs (the Reducer, broadcast_coalesced). Callers
  // include <torch/csrc/distributed/c10d/ProcessGroup.hpp>.
  c10::intrusive_ptr<c10d::ProcessGroup> process_group() const;

  // Element-wise sums of `values` over all ranks, computed in float64.
  std::vector<double> all_reduce_sum(const std::vector<double>& values, std::string_view operation);
  // Every rank's `value`, indexed by rank.
  std::vector<double> all_gather(double value, std::string_view operation);
  // Sums each tensor over all ranks in place; all are launched, then all awaited.
  void all_reduce_tensors(std::vector<at::Tensor>& tensors, std::string_view operation);
  // Returns once every rank has called it.
  void barrier(std::string_view operation);
  // Copies `tensors` from rank `root` to every rank (packed into few messages).
  void broadcast(const std::vector<at::Tensor>& tensors, int64_t root, std::string_view operation);
  // Asynchronous collectives on flat buffers, launched in the same order on every rank:
  //   reduce_scatter: input [W·n] → output [n], the sum of every rank's slice r into rank r;
  //   all_gather:     input [n] → output [W·n], rank r's input at slice r;
  //   all_reduce:     tensor [n] summed over the ranks in place.
  // The tensors must stay alive and untouched until wait() returns.
  PendingCollective reduce_scatter(at::Tensor& output, at::Tensor& input,
                                   std::string_view operation);
  PendingCollective all_gather(at::Tensor& output, at::Tensor& input, std::string_view operation);
  PendingCollective all_reduce(at::Tensor& tensor, std::string_view operation);
  // Waits for `pending` (a no-op when it is undefined); failures as guard() reports them.
  void wait(PendingCollective& pending) const;

  // Bytes of the collectives launched through this communicator (and counted by callers that
  // use the process group directly: count_all_reduce).
  const CollectiveTraffic& traffic() const;
  void reset_traffic();
  void count_all_reduce(int64_t bytes);

  // Rank 0's `value` under `key`, on every rank (through the store; keys are used once).
  std::string share_from_rank0(const std::string& key, const std::string& value);

  // Runs `body`, which waits on collectives; any failure is rethrown as one runtime_error
  // naming `operation`, this rank and dist.timeout.
  void guard(std::string_view operation, const std::function<void()>& body) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace omnirm::dist
