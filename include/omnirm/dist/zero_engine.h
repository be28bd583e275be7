// ZeRO stages 0–3 over flat buffers and c10d collectives (dist/flat_layout.h), with working
// parameters stored in fp32 or bf16 and the fp32 master copy only where the optimizer steps:
//
//   stage 0  every rank holds the full parameters, the full gradients (fp32) and the full
//            master + AdamW state; gradients are all-reduced on the last micro-step.
//   stage 1  as 0, but each rank steps only its slice of every unit: gradients are
//            reduce-scattered on the last micro-step, the updated slices all-gathered.
//   stage 2  as 1, but gradients are reduce-scattered on every micro-step, unit by unit while
//            backward still runs, into fp32 gradient shards: no rank holds full gradients.
//   stage 3  as 2, but the parameters are sharded too. Units that are not blocks (the
//            embeddings; the final norm, value head and towers) are gathered for each
//            micro-step; each block is gathered just before its forward and again before its
//            backward (the next block prefetched both ways) and freed after use.
//
// Per optimizer step, on every rank: zero_grad(); for each micro-step k of n:
// before_forward(k == n − 1); forward (blocks call the block_* hooks); backward;
// after_backward(); then clip_grad_norm(); optimizer.step() over master_pieces();
// after_optimizer_step(). Collectives are launched in the same order on every rank: a block's
// reduction starts once its gradients are complete and every unit before it in reduction
// order (blocks from the last, then the other units) has started; the other units, whose
// parameters may be used several times or not at all in a pass, are reduced by
// after_backward. At most two reductions are in flight at once, which bounds
// the communication buffers. Gradients are divided by the world size before they are summed,
// as DistributedDataParallel does. Nothing here reads a tensor on the host.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "omnirm/dist/communicator.h"
#include "omnirm/dist/flat_layout.h"

namespace torch::autograd {
struct Node;
}

namespace omnirm::dist {

struct ZeroOptions {
  int64_t stage = 2;                         // 0..3
  at::ScalarType reduce_dtype = at::kFloat;  // dtype of the reduction collectives
  int64_t max_reductions_in_flight = 2;
};

// One fp32 tensor the optimizer steps: a contiguous slice of this rank's share of one unit,
// all decaying or all not. Its .grad() is a view of the gradient shard.
struct MasterPiece {
  at::Tensor master;  // [n] fp32
  bool decay = false;
  size_t unit = 0;
  int64_t flat_begin = 0;  // in the unit's flat buffer
};

// Bytes the engine holds now and at most since reset_peaks(), by category.
struct ByteCounter {
  int64_t now = 0;
  int64_t peak = 0;
  void add(int64_t bytes);
  void remove(int64_t bytes);
};
struct ZeroMemory {
  ByteCounter parameters;  // working parameters: full buffers held, stage-3 shards
  ByteCounter gradients;   // fp32 gradient accumulation and shards
  ByteCounter master;      // fp32 master copies of non-fp32 parameters
  ByteCounter buffers;     // communication: reduction buckets, casts, gather inputs
};

class ZeroEngine {
 public:
  // `params`: the trainable parameters (leaves, already on their device and in their storage
  // dtype), described by `specs` in the same order on every rank. The parameters are moved
  // into the units' flat buffers (their values kept), synchronised from rank 0, and at stage
  // 3 reduced to this rank's shard. `comm` may be null: one process, nothing to communicate.
  ZeroEngine(Communicator* comm, std::vector<at::Tensor> params, std::vector<ParamSpec> specs,
             ZeroOptions options);
  ~ZeroEngine();
  ZeroEngine(const ZeroEngine&) = delete;
  ZeroEngine& operator=(const ZeroEngine&) = delete;

  int64_t stage() const { return options_.stage; }
  int64_t world_size() const { return world_; }
  int64_t rank() const { return rank_; }
  const std::vector<FlatUnit>& units() const { return layouts_; }
  const std::vector<ParamSpec>& specs() const { return specs_; }
  // The unit of the ParamSpec unit name `name` (its first storage type), or -1.
  int64_t unit_index(const std::string& name) const;
  // The part of unit `u`'s flat buffer whose optimizer state this rank holds.
  FlatRange owned_range(size_t unit) const;
  const std::vector<MasterPiece>& master_pieces() const { return pieces_; }

  // One optimizer step (see the header comment).
  void zero_grad();
  void before_forward(bool sync);
  // In place of forward and backward on a rank without data for this micro-step: takes part
  // in the collectives a pass would (stage 3's block gathers, the reductions) with zeros.
  void empty_micro_step();
  void after_backward();
  // The global L2 norm of the gradients (0-dim fp32 tensor on the device); with a finite
  // `max_norm` the gradients are scaled by min(1, max_norm / (norm + 1e-6)).
  at::Tensor clip_grad_norm(double max_norm);
  void after_optimizer_step();

  // Stage 3's schedule around a decoder block's unit (no-ops below stage 3 or for -1).
  void block_forward_begin(int64_t unit);
  void block_forward_end(int64_t unit);
  void block_backward_begin(int64_t unit);
  void block_backward_end(int64_t unit);

  // Stage 3: every rank gathers unit `u` (waits for it); release_unit frees it again. Below
  // stage 3 the parameters are always whole and both are no-ops. Every rank calls them in
  // the same order.
  void gather_unit(size_t unit);
  void release_unit(size_t unit);
  // Every unit gathered on this rank while the returned guard lives (every rank must make
  // one; with keep false this rank frees each unit as soon as it has its share of the work).
  class FullParameters {
   public:
    FullParameters(ZeroEngine& engine, bool keep);
    ~FullParameters();
    FullParameters(const FullParameters&) = delete;
    FullParameters& operator=(const FullParameters&) = delete;

   private:
    ZeroEngine& engine_;
    bool keep_;
  };

  // Master values (fp32) of unit `u`'s owned range, for writing checkpoints; and setting
  // them (reading checkpoints): the working parameters follow (stages 1 and 2 gather them).
  const ZeroMemory& memory() const { return memory_; }
  void reset_peaks();
  // After the master pieces were overwritten (a resumed checkpoint): the working parameters
  // are set from them (rounded to their storage type) and gathered where needed.
  void load_master();

 private:
  struct Unit;
  struct Reduction;

  bool sharded_params() const { return options_.stage == 3 && world_ > 1; }
  void on_gradient(size_t unit, size_t slot);
  void mark_ready(size_t unit);
  void launch_ready();
  void launch_reduction(size_t unit);
  void retire_oldest();
  void start_gather(size_t unit);
  void finish_gather(size_t unit);
  void free_full(size_t unit);
  void allocate_full(size_t unit);
  int64_t next_block(int64_t unit, int step) const;
  void copy_master_to_working();
  void gather_owned_slices();

  Communicator* comm_;
  ZeroOptions options_;
  int64_t world_ = 1;
  int64_t rank_ = 0;
  std::vector<at::Tensor> params_;
  std::vector<ParamSpec> specs_;
  std::vector<FlatUnit> layouts_;
  std::vector<std::unique_ptr<Unit>> units_;
  std::vector<MasterPiece> pieces_;
  std::vector<size_t> reduction_order_;  // blocks from the last, then the other units
  size_t next_launch_ = 0;
  bool reducing_ = false;  // this micro-step's backward reduces (stages 2–3: always)
  std::deque<std::unique_ptr<Reduction>> in_flight_;
  std::vector<std::pair<std::shared_ptr<torch::autograd::Node>, uintptr_t>> hooks_;
  ZeroMemory memory_;
};

}  // namespace omnirm::dist
