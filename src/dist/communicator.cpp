// Implementation of dist/communicator.h: a TCPStore, a PrefixStore per use, and a
// c10d::ProcessGroup wrapping one backend, built the way torch.distributed builds its default
// group.
#include "omnirm/dist/communicator.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/comm.hpp>

#include <cmath>
#include <cstdlib>

#include "omnirm/core/error.h"

// The torch wheel carries Gloo's code but not its headers (Debian: libgloo-dev); without
// them this build has no Gloo backend and says so when asked for one.
#if defined(USE_C10D_GLOO) && __has_include(<gloo/algorithm.h>)
#define OMNIRM_HAVE_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if defined(USE_C10D_NCCL) && __has_include(<nccl.h>)
#define OMNIRM_HAVE_NCCL 1
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace omnirm::dist {

namespace {

// broadcast() packs tensors into buffers of at most this many bytes.
constexpr size_t kBroadcastBufferBytes = size_t{256} << 20;

int64_t tensor_bytes(const at::Tensor& tensor) {
  return tensor.numel() * static_cast<int64_t>(tensor.element_size());
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

#ifdef OMNIRM_HAVE_GLOO
// The network device Gloo binds to: GLOO_SOCKET_IFNAME when set, the loopback interface when
// the master is on this machine's loopback, else the address this host's name resolves to.
std::shared_ptr<::gloo::transport::Device> gloo_device(const std::string& master_addr) {
  if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME")) {
    return c10d::ProcessGroupGloo::createDeviceForInterface(interface);
  }
  if (is_loopback(master_addr)) {
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  }
  return c10d::ProcessGroupGloo::createDefaultDevice();
}
#endif

}  // namespace

std::string resolve_backend(const std::string& configured, at::Device device) {
#ifdef OMNIRM_HAVE_NCCL
  constexpr bool kHaveNccl = true;
#else
  constexpr bool kHaveNccl = false;
#endif
#ifdef OMNIRM_HAVE_GLOO
  constexpr bool kHaveGloo = true;
#else
  constexpr bool kHaveGloo = false;
#endif
  const auto gloo = [&] {
    if (!kHaveGloo) {
      throw UserError(
          "dist.backend: this omnirm was built without Gloo's headers, so it has no CPU "
          "backend; install libgloo-dev and rebuild (or use nccl on CUDA)");
    }
    return std::string("gloo");
  };
  if (configured == "gloo") return gloo();
  if (configured == "nccl" || (configured == "auto" && device.is_cuda())) {
    if (!device.is_cuda()) {
      throw UserError(
          "dist.backend: 'nccl' needs CUDA devices but this run trains on the CPU; use gloo or "
          "auto");
    }
    if (!kHaveNccl) {
      throw UserError("dist.backend: this build of LibTorch has no NCCL; use gloo");
    }
    return "nccl";
  }
  if (configured != "auto") {
    throw UserError(
        fmt::format("dist.backend must be one of auto, gloo, nccl, got '{}'", configured));
  }
  return gloo();
}

at::Device local_device(const World& world, at::DeviceType device_type) {
  if (device_type == at::kCUDA) {
    return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(world.local_rank));
  }
  return at::Device(at::kCPU);
}

struct PendingCollective::Work {
  c10::intrusive_ptr<c10d::Work> work;
  std::string operation;
};

PendingCollective::PendingCollective() = default;
PendingCollective::~PendingCollective() = default;
PendingCollective::PendingCollective(PendingCollective&&) noexcept = default;
PendingCollective& PendingCollective::operator=(PendingCollective&&) noexcept = default;
bool PendingCollective::defined() const { return work_ != nullptr; }

double CollectiveTraffic::ring_bytes(int64_t world_size) const {
  const double share = double(world_size - 1) / double(world_size);
  return share * (2.0 * double(all_reduce) + double(reduce_scatter) + double(all_gather)) +
         double(broadcast);
}

struct Communicator::State {
  World world;
  at::Device device{at::kCPU};
  std::string backend;
  std::chrono::milliseconds timeout{0};
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroup> group;
  CollectiveTraffic traffic;
};

Communicator::Communicator(const World& world, const DistConfig& config, at::Device device)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.world = world;
  s.device = device;
  s.backend = resolve_backend(config.backend, device);
  s.timeout = std::chrono::milliseconds(static_cast<int64_t>(std::ceil(config.timeout * 1000.0)));
  const int rank = static_cast<int>(world.rank);
  const int size = static_cast<int>(world.size);

  guard(fmt::format("rendezvous at {}:{}", world.master_addr, world.master_port), [&] {
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(world.master_port);
    options.isServer = world.rank == 0 && !world.agent_store;
    options.numWorkers = static_cast<size_t>(world.size);
    options.timeout = s.timeout;
    auto tcp = c10::make_intrusive<c10d::TCPStore>(world.master_addr, options);
    s.store = c10::make_intrusive<c10d::PrefixStore>("omnirm/", tcp);
  });

  guard(fmt::format("creating the {} process group", s.backend), [&] {
    s.group = c10::make_intrusive<c10d::ProcessGroup>(s.store, rank, size);
    if (s.backend == "gloo") {
#ifdef OMNIRM_HAVE_GLOO
      auto options = c10d::ProcessGroupGloo::Options::create(s.timeout);
      options->devices.push_back(gloo_device(world.master_addr));
      auto backend = c10::make_intrusive<c10d::ProcessGroupGloo>(
          c10::make_intrusive<c10d::PrefixStore>("gloo/", s.store), rank, size, options);
      s.group->setBackend(c10::DeviceType::CPU, c10d::ProcessGroup::BackendType::GLOO, backend);
      if (device.is_cuda()) {
        s.group->setBackend(c10::DeviceType::CUDA, c10d::ProcessGroup::BackendType::GLOO, backend);
      }
      s.group->setDefaultBackend(c10d::ProcessGroup::BackendType::GLOO);
#endif
    } else {
#ifdef OMNIRM_HAVE_NCCL
      c10::cuda::set_device(device.index());
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = s.timeout;
      auto backend = c10::make_intrusive<c10d::ProcessGroupNCCL>(
          c10::make_intrusive<c10d::PrefixStore>("nccl/", s.store), rank, size, options);
      s.group->setBackend(c10::DeviceType::CUDA, c10d::ProcessGroup::BackendType::NCCL, backend);
      s.group->setDefaultBackend(c10d::ProcessGroup::BackendType::NCCL);
#endif
    }
  });
}

Communicator::~Communicator() {
  if (state_ && state_->group && state_->backend == "nccl") {
    try {
      state_->group->shutdown();
    } catch (...) {
      // Tearing down after a failure: nothing left to report to.
    }
  }
}

int64_t Communicator::rank() const { return state_->world.rank; }
int64_t Communicator::size() const { return state_->world.size; }
at::Device Communicator::device() const { return state_->device; }
const std::string& Communicator::backend() const { return state_->backend; }
std::chrono::milliseconds Communicator::timeout() const { return state_->timeout; }

c10::intrusive_ptr<c10d::ProcessGroup> Communicator::process_group() const { return state_->group; }

void Communicator::guard(std::string_view operation, const std::function<void()>& body) const {
  std::string cause;
  try {
    body();
    return;
  } catch (const UserError&) {
    throw;
  } catch (const c10::Error& error) {
    cause = error.what_without_backtrace();
  } catch (const std::exception& error) {
    cause = error.what();
  }
  throw std::runtime_error(
      fmt::format("rank {}: {} did not complete: {} (another rank may have failed or stalled; "
                  "dist.timeout = {} s)",
                  state_->world.rank, operation, first_line(cause),
                  static_cast<double>(state_->timeout.count()) / 1000.0));
}

std::vector<double> Communicator::all_reduce_sum(const std::vector<double>& values,
                                                 std::string_view operation) {
  std::vector<at::Tensor> tensors = {at::tensor(values, at::kDouble).to(state_->device)};
  all_reduce_tensors(tensors, operation);
  const at::Tensor sums = tensors[0].cpu();
  return std::vector<double>(sums.data_ptr<double>(), sums.data_ptr<double>() + sums.numel());
}

std::vector<double> Communicator::all_gather(double value, std::string_view operation) {
  std::vector<double> slots(static_cast<size_t>(size()), 0.0);
  slots[static_cast<size_t>(rank())] = value;
  return all_reduce_sum(slots, operation);
}

void Communicator::all_reduce_tensors(std::vector<at::Tensor>& tensors,
                                      std::string_view operation) {
  guard(operation, [&] {
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    works.reserve(tensors.size());
    for (at::Tensor& tensor : tensors) {
      std::vector<at::Tensor> one = {tensor};
      works.push_back(state_->group->allreduce(one));
    }
    for (auto& work : works) work->wait();
    for (const at::Tensor& tensor : tensors) state_->traffic.all_reduce += tensor_bytes(tensor);
    // NCCL's wait() only orders the current stream; reading the result synchronizes.
    if (state_->device.is_cuda() && !tensors.empty()) tensors.back().sum().item<double>();
  });
}

PendingCollective Communicator::reduce_scatter(at::Tensor& output, at::Tensor& input,
                                               std::string_view operation) {
  TORCH_CHECK(input.numel() == output.numel() * size() && input.is_contiguous() &&
                  output.is_contiguous() && input.scalar_type() == output.scalar_type(),
              "reduce_scatter: input must be ", size(),
              " x the output's elements, contiguous, "
              "same dtype; got ",
              input.sizes(), " and ", output.sizes());
  PendingCollective pending;
  pending.work_ = std::make_unique<PendingCollective::Work>();
  pending.work_->operation = std::string(operation);
  guard(operation,
        [&] { pending.work_->work = state_->group->_reduce_scatter_base(output, input); });
  state_->traffic.reduce_scatter += tensor_bytes(input);
  return pending;
}

PendingCollective Communicator::all_gather(at::Tensor& output, at::Tensor& input,
                                           std::string_view operation) {
  TORCH_CHECK(output.numel() == input.numel() * size() && input.is_contiguous() &&
                  output.is_contiguous() && input.scalar_type() == output.scalar_type(),
              "all_gather: output must be ", size(),
              " x the input's elements, contiguous, "
              "same dtype; got ",
              input.sizes(), " and ", output.sizes());
  PendingCollective pending;
  pending.work_ = std::make_unique<PendingCollective::Work>();
  pending.work_->operation = std::string(operation);
  guard(operation, [&] { pending.work_->work = state_->group->_allgather_base(output, input); });
  state_->traffic.all_gather += tensor_bytes(output);
  return pending;
}

PendingCollective Communicator::all_reduce(at::Tensor& tensor, std::string_view operation) {
  PendingCollective pending;
  pending.work_ = std::make_unique<PendingCollective::Work>();
  pending.work_->operation = std::string(operation);
  guard(operation, [&] {
    std::vector<at::Tensor> one = {tensor};
    pending.work_->work = state_->group->allreduce(one);
  });
  state_->traffic.all_reduce += tensor_bytes(tensor);
  return pending;
}

void Communicator::wait(PendingCollective& pending) const {
  if (!pending.work_) return;
  const auto work = std::move(pending.work_);
  guard(work->operation, [&] { work->work->wait(); });
}

const CollectiveTraffic& Communicator::traffic() const { return state_->traffic; }
void Communicator::reset_traffic() { state_->traffic = CollectiveTraffic{}; }
void Communicator::count_all_reduce(int64_t bytes) { state_->traffic.all_reduce += bytes; }

void Communicator::barrier(std::string_view operation) { all_reduce_sum({1.0}, operation); }

void Communicator::broadcast(const std::vector<at::Tensor>& tensors, int64_t root,
                             std::string_view operation) {
  guard(operation, [&] {
    at::NoGradGuard no_grad;
    c10d::broadcast_coalesced(state_->group, tensors, kBroadcastBufferBytes,
                              static_cast<int>(root));
  });
  for (const at::Tensor& tensor : tensors) state_->traffic.broadcast += tensor_bytes(tensor);
}

std::string Communicator::share_from_rank0(const std::string& key, const std::string& value) {
  std::string shared = value;
  guard(fmt::format("sharing '{}' from rank 0", key), [&] {
    if (rank() == 0) {
      state_->store->set(key, std::vector<uint8_t>(value.begin(), value.end()));
    } else {
      const std::vector<uint8_t> bytes = state_->store->get(key);
      shared.assign(bytes.begin(), bytes.end());
    }
  });
  return shared;
}

}  // namespace omnirm::dist
