// Implementation of dist/zero_engine.h. Every trainable parameter becomes a view of its unit's
// flat buffer (Tensor::set_data), so autograd and the modules keep using the same leaves. At
// stage 3 that buffer's storage is released between uses and allocated again to gather into:
// the parameters, and the views of them autograd saved for backward, share the storage and
// see the gathered values again, without any version counter moving.
#include "omnirm/dist/zero_engine.h"

#include <ATen/ATen.h>
#include <c10/core/StorageImpl.h>
#include <fmt/format.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <cmath>
#include <limits>

namespace omnirm::dist {

namespace {

int64_t bytes_of(const at::Tensor& tensor) {
  return tensor.defined() ? tensor.numel() * static_cast<int64_t>(tensor.element_size()) : 0;
}

}  // namespace

void ByteCounter::add(int64_t bytes) {
  now += bytes;
  peak = std::max(peak, now);
}

void ByteCounter::remove(int64_t bytes) { now -= bytes; }

struct ZeroEngine::Unit {
  bool root = false;
  int64_t padded = 0;  // elements of the full buffer
  FlatRange owned;     // this rank's slice of it
  at::Tensor full;     // [padded], the parameters' storage (stage 3: released between uses)
  at::Tensor shard;    // stage 3: [owned.size()], this rank's working slice
  bool gathered = true;
  bool pinned = false;  // kept whole by gather_unit until release_unit
  PendingCollective gather;
  at::Tensor bucket;      // [padded] fp32: gradients of this micro-step (stages 2–3) or step
  at::Tensor grad_shard;  // [owned.size()] fp32 (stage 0: the bucket itself)
  std::vector<bool> arrived;
  size_t arrived_count = 0;
  bool ready = false;
  bool launched = false;
};

struct ZeroEngine::Reduction {
  size_t unit = 0;
  PendingCollective pending;
  at::Tensor send;      // what the collective reads (the bucket, or its reduce_dtype cast)
  at::Tensor received;  // reduce-scatter output
};

ZeroEngine::ZeroEngine(Communicator* comm, std::vector<at::Tensor> params,
                       std::vector<ParamSpec> specs, ZeroOptions options)
    : comm_(comm), options_(options), params_(std::move(params)), specs_(std::move(specs)) {
  TORCH_CHECK(options_.stage >= 0 && options_.stage <= 3, "ZeroEngine: stage must be 0..3");
  TORCH_CHECK(params_.size() == specs_.size() && !params_.empty(),
              "ZeroEngine: one spec per parameter, and at least one parameter");
  if (comm_ != nullptr) {
    world_ = comm_->size();
    rank_ = comm_->rank();
  }
  const int64_t shard_world = options_.stage == 0 ? 1 : world_;
  const int64_t shard_rank = options_.stage == 0 ? 0 : rank_;
  layouts_ = make_flat_units(specs_);
  const at::Device device = params_.front().device();
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> fulls;
  for (const FlatUnit& layout : layouts_) {
    auto unit = std::make_unique<Unit>();
    unit->root = !layout.block;
    unit->padded = layout.padded_numel(shard_world);
    unit->owned = layout.shard(shard_rank, shard_world);
    unit->full = at::zeros({unit->padded}, at::TensorOptions().dtype(layout.dtype).device(device));
    for (const FlatParam& fp : layout.params) {
      at::Tensor& param = params_[fp.index];
      TORCH_CHECK(param.scalar_type() == layout.dtype && param.device() == device,
                  "ZeroEngine: ", specs_[fp.index].name, " is ", param.scalar_type(), " on ",
                  param.device(), ", its unit ", layout.dtype, " on ", device);
      at::Tensor slot = unit->full.narrow(0, fp.offset, fp.numel);
      slot.copy_(param.detach().reshape(-1));
      param.set_data(slot.view(param.sizes()));
    }
    unit->arrived.assign(layout.params.size(), false);
    memory_.parameters.add(bytes_of(unit->full));
    fulls.push_back(unit->full);
    units_.push_back(std::move(unit));
  }
  if (comm_ != nullptr && world_ > 1) {
    comm_->broadcast(fulls, 0, "the broadcast of the initial parameters from rank 0");
  }
  fulls.clear();

  for (size_t u = 0; u < units_.size(); ++u) {
    Unit& unit = *units_[u];
    const FlatUnit& layout = layouts_[u];
    const auto fp32 = at::TensorOptions().dtype(at::kFloat).device(device);
    if (options_.stage == 0) {
      unit.bucket = at::zeros({unit.padded}, fp32);
      unit.grad_shard = unit.bucket;
    } else {
      unit.grad_shard = at::zeros({unit.owned.size()}, fp32);
    }
    memory_.gradients.add(bytes_of(unit.grad_shard));
    if (sharded_params()) {
      unit.shard = unit.full.narrow(0, unit.owned.begin, unit.owned.size()).clone();
      memory_.parameters.add(bytes_of(unit.shard));
      free_full(u);
    }
    at::Tensor working =
        sharded_params() ? unit.shard : unit.full.narrow(0, unit.owned.begin, unit.owned.size());
    const FlatRange parts[2] = {
        {unit.owned.begin, std::min(unit.owned.end, layout.decay_numel)},
        {std::max(unit.owned.begin, layout.decay_numel), std::min(unit.owned.end, layout.numel)}};
    for (int part = 0; part < 2; ++part) {
      const FlatRange& range = parts[part];
      if (range.empty()) continue;
      const int64_t at = range.begin - unit.owned.begin;
      MasterPiece piece;
      piece.decay = part == 0;
      piece.unit = u;
      piece.flat_begin = range.begin;
      piece.master = working.narrow(0, at, range.size());
      if (layout.dtype != at::kFloat) {
        piece.master = piece.master.to(at::kFloat);
        memory_.master.add(bytes_of(piece.master));
      }
      piece.master.mutable_grad() = unit.grad_shard.narrow(0, at, range.size());
      pieces_.push_back(std::move(piece));
    }
    for (size_t slot = 0; slot < layout.params.size(); ++slot) {
      const at::Tensor& param = params_[layout.params[slot].index];
      std::shared_ptr<torch::autograd::Node> accumulator =
          torch::autograd::impl::grad_accumulator(param);
      TORCH_CHECK(accumulator != nullptr, "ZeroEngine: ", specs_[layout.params[slot].index].name,
                  " is not a leaf that requires grad");
      const uintptr_t key =
          accumulator->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
              [this, u, slot](const torch::autograd::variable_list& outputs,
                              const torch::autograd::variable_list&) {
                on_gradient(u, slot);
                return outputs;
              }));
      hooks_.emplace_back(std::move(accumulator), key);
    }
  }
  for (size_t u = units_.size(); u-- > 0;) {
    if (!units_[u]->root) reduction_order_.push_back(u);
  }
  for (size_t u = 0; u < units_.size(); ++u) {
    if (units_[u]->root) reduction_order_.push_back(u);
  }
}

ZeroEngine::~ZeroEngine() {
  for (auto& [node, key] : hooks_) node->del_post_hook(key);
}

int64_t ZeroEngine::unit_index(const std::string& name) const {
  for (size_t u = 0; u < layouts_.size(); ++u) {
    if (layouts_[u].name == name) return static_cast<int64_t>(u);
  }
  return -1;
}

FlatRange ZeroEngine::owned_range(size_t unit) const { return units_[unit]->owned; }

void ZeroEngine::reset_peaks() {
  for (ByteCounter* counter :
       {&memory_.parameters, &memory_.gradients, &memory_.master, &memory_.buffers}) {
    counter->peak = counter->now;
  }
}

void ZeroEngine::zero_grad() {
  at::NoGradGuard no_grad;
  for (auto& unit : units_) unit->grad_shard.zero_();
}

void ZeroEngine::before_forward(bool sync) {
  reducing_ = options_.stage >= 2 || sync;
  next_launch_ = 0;
  for (auto& unit : units_) {
    std::fill(unit->arrived.begin(), unit->arrived.end(), false);
    unit->arrived_count = 0;
    unit->ready = false;
    unit->launched = false;
  }
  if (!sharded_params()) return;
  for (size_t u = 0; u < units_.size(); ++u) {
    if (units_[u]->root) start_gather(u);
  }
  for (size_t u = 0; u < units_.size(); ++u) {
    if (units_[u]->root) finish_gather(u);
  }
  const int64_t first = next_block(-1, +1);
  if (first >= 0) start_gather(static_cast<size_t>(first));
}

void ZeroEngine::empty_micro_step() {
  if (!sharded_params()) return;  // below stage 3 after_backward starts every reduction
  for (int64_t u = next_block(-1, +1); u >= 0; u = next_block(u, +1)) {
    block_forward_begin(u);
    block_forward_end(u);
  }
  for (int64_t u = next_block(static_cast<int64_t>(units_.size()), -1); u >= 0;
       u = next_block(u, -1)) {
    block_backward_begin(u);
    if (reducing_) mark_ready(static_cast<size_t>(u));
    block_backward_end(u);
  }
}

void ZeroEngine::on_gradient(size_t u, size_t slot) {
  Unit& unit = *units_[u];
  const FlatParam& fp = layouts_[u].params[slot];
  at::Tensor& grad = params_[fp.index].mutable_grad();
  if (!grad.defined()) return;
  TORCH_INTERNAL_ASSERT(!unit.launched, "ZeroEngine: a gradient of ", specs_[fp.index].name,
                        " arrived after the reduction of its unit ", layouts_[u].name, " started");
  at::NoGradGuard no_grad;
  if (!unit.bucket.defined()) {
    unit.bucket = at::zeros({unit.padded}, grad.options().dtype(at::kFloat));
    (options_.stage == 1 ? memory_.gradients : memory_.buffers).add(bytes_of(unit.bucket));
  }
  at::Tensor slot_view = unit.bucket.narrow(0, fp.offset, fp.numel);
  if (world_ == 1) {
    slot_view.add_(grad.reshape(-1));
  } else {
    slot_view.add_(grad.reshape(-1), 1.0 / double(world_));
  }
  grad.reset();
  if (!unit.arrived[slot]) {
    unit.arrived[slot] = true;
    ++unit.arrived_count;
    if (reducing_ && !unit.root && unit.arrived_count == unit.arrived.size()) mark_ready(u);
  }
}

void ZeroEngine::mark_ready(size_t u) {
  units_[u]->ready = true;
  launch_ready();
}

void ZeroEngine::launch_ready() {
  while (next_launch_ < reduction_order_.size() && units_[reduction_order_[next_launch_]]->ready) {
    launch_reduction(reduction_order_[next_launch_++]);
  }
}

void ZeroEngine::launch_reduction(size_t u) {
  Unit& unit = *units_[u];
  unit.launched = true;
  at::NoGradGuard no_grad;
  if (!unit.bucket.defined()) {  // no gradient reached this unit on this rank
    unit.bucket = at::zeros({unit.padded}, unit.grad_shard.options());
    (options_.stage == 1 ? memory_.gradients : memory_.buffers).add(bytes_of(unit.bucket));
  }
  if (comm_ == nullptr || world_ == 1) {
    if (options_.stage != 0) {
      unit.grad_shard.add_(unit.bucket.narrow(0, unit.owned.begin, unit.owned.size()));
      (options_.stage == 1 ? memory_.gradients : memory_.buffers).remove(bytes_of(unit.bucket));
      unit.bucket = at::Tensor();
    }
    return;
  }
  auto reduction = std::make_unique<Reduction>();
  reduction->unit = u;
  reduction->send = unit.bucket;
  if (options_.reduce_dtype != at::kFloat) {
    reduction->send = unit.bucket.to(options_.reduce_dtype);
    memory_.buffers.add(bytes_of(reduction->send));
    if (options_.stage != 0) {  // the cast carries the values now
      (options_.stage == 1 ? memory_.gradients : memory_.buffers).remove(bytes_of(unit.bucket));
      unit.bucket = at::Tensor();
    }
  }
  const std::string& name = layouts_[u].name;
  if (options_.stage == 0) {
    reduction->pending =
        comm_->all_reduce(reduction->send, fmt::format("the gradient all-reduce of {}", name));
  } else {
    reduction->received = at::empty({unit.owned.size()}, reduction->send.options());
    memory_.buffers.add(bytes_of(reduction->received));
    reduction->pending = comm_->reduce_scatter(
        reduction->received, reduction->send,
        fmt::format("the gradient reduce-scatter of {} during backward", name));
  }
  in_flight_.push_back(std::move(reduction));
  while (static_cast<int64_t>(in_flight_.size()) > options_.max_reductions_in_flight) {
    retire_oldest();
  }
}

void ZeroEngine::retire_oldest() {
  std::unique_ptr<Reduction> reduction = std::move(in_flight_.front());
  in_flight_.pop_front();
  comm_->wait(reduction->pending);
  Unit& unit = *units_[reduction->unit];
  at::NoGradGuard no_grad;
  if (options_.stage == 0) {
    if (!reduction->send.is_same(unit.bucket)) {
      unit.bucket.copy_(reduction->send);
      memory_.buffers.remove(bytes_of(reduction->send));
    }
    return;
  }
  unit.grad_shard.add_(reduction->received);
  memory_.buffers.remove(bytes_of(reduction->received));
  if (unit.bucket.defined() && reduction->send.is_same(unit.bucket)) {
    (options_.stage == 1 ? memory_.gradients : memory_.buffers).remove(bytes_of(unit.bucket));
    unit.bucket = at::Tensor();
  } else {
    memory_.buffers.remove(bytes_of(reduction->send));
  }
}

void ZeroEngine::after_backward() {
  if (reducing_) {
    for (size_t u : reduction_order_) {
      if (!units_[u]->launched) units_[u]->ready = true;
    }
    launch_ready();
    while (!in_flight_.empty()) retire_oldest();
  }
  if (!sharded_params()) return;
  for (size_t u = 0; u < units_.size(); ++u) {
    Unit& unit = *units_[u];
    if (unit.gather.defined()) finish_gather(u);  // a prefetch nobody used
    if (unit.gathered && !unit.pinned) free_full(u);
  }
}

at::Tensor ZeroEngine::clip_grad_norm(double max_norm) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> norms;
  norms.reserve(units_.size());
  for (const auto& unit : units_) norms.push_back(unit->grad_shard.norm().reshape({1}));
  at::Tensor squares = at::cat(norms).pow(2).sum().reshape({1});
  if (options_.stage >= 1 && comm_ != nullptr && world_ > 1) {
    PendingCollective pending = comm_->all_reduce(squares, "the all-reduce of the gradient norm");
    comm_->wait(pending);
  }
  at::Tensor norm = squares.sqrt().reshape({});
  if (std::isfinite(max_norm)) {
    const at::Tensor coefficient = at::clamp_max(max_norm / (norm + 1e-6), 1.0);
    for (auto& unit : units_) unit->grad_shard.mul_(coefficient);
  }
  return norm;
}

void ZeroEngine::copy_master_to_working() {
  at::NoGradGuard no_grad;
  for (const MasterPiece& piece : pieces_) {
    if (layouts_[piece.unit].dtype == at::kFloat) continue;  // the master is the working slice
    Unit& unit = *units_[piece.unit];
    at::Tensor working =
        sharded_params() ? unit.shard : unit.full.narrow(0, unit.owned.begin, unit.owned.size());
    working.narrow(0, piece.flat_begin - unit.owned.begin, piece.master.numel())
        .copy_(piece.master);
  }
}

void ZeroEngine::gather_owned_slices() {
  if (comm_ == nullptr || world_ == 1 || options_.stage == 0 || options_.stage == 3) return;
  std::vector<std::pair<PendingCollective, at::Tensor>> gathers;
  for (size_t u = 0; u < units_.size(); ++u) {
    Unit& unit = *units_[u];
    at::Tensor input = unit.full.narrow(0, unit.owned.begin, unit.owned.size()).clone();
    memory_.buffers.add(bytes_of(input));
    PendingCollective pending = comm_->all_gather(
        unit.full, input,
        fmt::format("the all-gather of the updated parameters of {}", layouts_[u].name));
    gathers.emplace_back(std::move(pending), std::move(input));
  }
  for (auto& [pending, input] : gathers) {
    comm_->wait(pending);
    memory_.buffers.remove(bytes_of(input));
  }
}

void ZeroEngine::after_optimizer_step() {
  copy_master_to_working();
  gather_owned_slices();
}

void ZeroEngine::load_master() { after_optimizer_step(); }

void ZeroEngine::allocate_full(size_t u) {
  Unit& unit = *units_[u];
  c10::StorageImpl* storage = unit.full.storage().unsafeGetStorageImpl();
  const auto bytes = static_cast<size_t>(unit.padded) * unit.full.element_size();
  storage->set_data_ptr_noswap(storage->allocator()->allocate(bytes));
  storage->set_nbytes(bytes);
  memory_.parameters.add(static_cast<int64_t>(bytes));
}

void ZeroEngine::free_full(size_t u) {
  Unit& unit = *units_[u];
  if (!unit.gathered) return;
  c10::StorageImpl* storage = unit.full.storage().unsafeGetStorageImpl();
  memory_.parameters.remove(static_cast<int64_t>(storage->nbytes()));
  storage->set_data_ptr_noswap(at::DataPtr(nullptr, unit.full.device()));
  storage->set_nbytes(0);
  unit.gathered = false;
}

void ZeroEngine::start_gather(size_t u) {
  Unit& unit = *units_[u];
  if (unit.gathered || unit.gather.defined()) return;
  allocate_full(u);
  unit.gather = comm_->all_gather(unit.full, unit.shard,
                                  fmt::format("the parameter all-gather of {}", layouts_[u].name));
}

void ZeroEngine::finish_gather(size_t u) {
  Unit& unit = *units_[u];
  if (unit.gathered) return;
  start_gather(u);
  comm_->wait(unit.gather);
  unit.gathered = true;
}

int64_t ZeroEngine::next_block(int64_t unit, int step) const {
  for (int64_t u = unit + step; u >= 0 && u < static_cast<int64_t>(units_.size()); u += step) {
    if (!units_[static_cast<size_t>(u)]->root) return u;
  }
  return -1;
}

void ZeroEngine::block_forward_begin(int64_t unit) {
  if (!sharded_params() || unit < 0) return;
  finish_gather(static_cast<size_t>(unit));
  const int64_t next = next_block(unit, +1);
  if (next >= 0) start_gather(static_cast<size_t>(next));
}

void ZeroEngine::block_forward_end(int64_t unit) {
  if (!sharded_params() || unit < 0 || units_[static_cast<size_t>(unit)]->pinned) return;
  free_full(static_cast<size_t>(unit));
}

void ZeroEngine::block_backward_begin(int64_t unit) {
  if (!sharded_params() || unit < 0) return;
  finish_gather(static_cast<size_t>(unit));
  const int64_t previous = next_block(unit, -1);
  if (previous >= 0) start_gather(static_cast<size_t>(previous));
}

void ZeroEngine::block_backward_end(int64_t unit) { block_forward_end(unit); }

void ZeroEngine::gather_unit(size_t unit) {
  if (!sharded_params()) return;
  finish_gather(unit);
  units_[unit]->pinned = true;
}

void ZeroEngine::release_unit(size_t unit) {
  if (!sharded_params()) return;
  units_[unit]->pinned = false;
  free_full(unit);
}

ZeroEngine::FullParameters::FullParameters(ZeroEngine& engine, bool keep)
    : engine_(engine), keep_(keep) {
  for (size_t u = 0; u < engine_.units_.size(); ++u) {
    engine_.gather_unit(u);
    if (!keep_) engine_.release_unit(u);
  }
}

ZeroEngine::FullParameters::~FullParameters() {
  if (!keep_) return;
  for (size_t u = 0; u < engine_.units_.size(); ++u) engine_.release_unit(u);
}

}  // namespace omnirm::dist
