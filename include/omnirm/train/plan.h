// `omnirm plan`: what one rank holds while training a config on W ranks at each ZeRO stage,
// by category, computed from the config alone (no weights are read or built):
//
//   parameters   working weights: trainable ones in train.param_dtype (the value head fp32),
//                frozen ones likewise; at stage 3 this rank's shard, the units that are not
//                blocks (gathered for each micro-step) and two decoder blocks (the one
//                running and the one prefetched)
//   gradients    fp32: whole at stage 0; at stage 1 the reduced shard plus whole gradients
//                accumulated over the micro-steps (with one micro-step per rank, the buckets
//                of stage 2); a shard at stages 2 and 3. The replicated path (fp32
//                parameters, stage 0/1) keeps them in the parameters' .grad
//   master       the fp32 master copy, only for bf16 parameters, sharded like the optimizer
//   optimizer    AdamW's two fp32 moments: whole at stage 0, a 1/W share from stage 1 on
//   activations  what backward keeps of one micro-batch (train.micro_batch_pairs pairs of
//                tokens_per_pair packed tokens each; pair-prefix or two-sequence rows), by the
//                per-token terms of omnirm's decoder layer (train/plan.cpp) under
//                train.activation_checkpointing, plus one layer recomputed in backward with
//                its backward's temporaries
//   buffers      communication: the replicated path's all-reduce buckets (a copy of the
//                gradients), the sharded path's reduction buckets in flight with their
//                reduce-scatter outputs (three at the moment a launch retires the oldest;
//                at the end of backward the non-block units' and two blocks'), all fp32
//
// and the FLOPs of a step: 6 per trainable and 4 per frozen backbone parameter per token
// (frozen weights still pass gradients back), attention's 12·L·D per (query, key) pair, one
// more forward under activation checkpointing; the step time at a stated MFU of the given
// peak, and the whole configured run from it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "omnirm/core/config.h"
#include "omnirm/model/reward_model.h"

namespace omnirm::train {

struct ParameterCounts {
  int64_t total = 0;
  int64_t trainable = 0;
  int64_t frozen = 0;
  int64_t block_trainable = 0;  // trainable elements inside decoder layers
  int64_t largest_block = 0;    // trainable elements of the largest decoder layer
  int64_t head = 0;             // the value head (kept fp32)
  int64_t backbone = 0;         // decoder layers + final norm (FLOPs per token)
  int64_t backbone_trainable = 0;
  int64_t embedding = 0;
};

// From the config: the same counts the model would have (tests compare them).
ParameterCounts count_parameters(const ModelConfig& model, const LoraConfig& lora,
                                 int64_t vocab_size);
// From a built model.
ParameterCounts count_parameters(model::RewardModelImpl& model);

struct MemoryCategories {
  double parameters = 0.0;
  double gradients = 0.0;
  double master = 0.0;
  double optimizer = 0.0;
  double activations = 0.0;
  double buffers = 0.0;
  // Bytes two categories never hold at once: on the replicated path the gradients are
  // created (after zero_grad sets them to none) as backward frees the activations.
  double not_concurrent = 0.0;
  // The peak: the categories' sum less not_concurrent.
  double total() const;
};

struct StagePlan {
  int64_t stage = 0;
  bool sharded_optimizer = false;  // the flat-buffer path (else the replicated one)
  MemoryCategories bytes;          // per rank
};

struct MemoryPlan {
  int64_t world_size = 1;
  int64_t tokens_per_micro_batch = 0;
  std::vector<StagePlan> stages;  // 0..3
  const StagePlan& stage(int64_t stage) const;
  // The lowest stage whose total is at most `bytes`; null when none is.
  const StagePlan* smallest_fitting(double bytes) const;
};

// Packed tokens one pair of `tokens_per_pair` tokens (prompt + chosen + rejected, as packed in
// the pair-prefix layout) becomes in the config's layout, and the number of attention rows.
struct RowShape {
  int64_t tokens = 0;
  int64_t rows = 0;
  int64_t row_length = 0;
};
RowShape pair_rows(const Config& config, int64_t tokens_per_pair);

// Per-rank bytes of every stage for `config` on `world_size` ranks, with micro-batches of
// `tokens_per_pair`-token pairs.
MemoryPlan plan_memory(const Config& config, const ParameterCounts& counts, int64_t world_size,
                       int64_t tokens_per_pair);
// Activation bytes of one micro-batch of `tokens` tokens in `rows` attention rows of at most
// `max_row_length` tokens (the dense backends pad every row to it).
double activation_bytes(const Config& config, int64_t tokens, int64_t rows, int64_t max_row_length);

struct TimeEstimate {
  double flops_per_pair = 0.0;
  double flops_per_step = 0.0;  // the global batch
  double step_seconds = 0.0;    // over all ranks at the MFU
  int64_t steps = 0;            // of the configured run (0: unknown)
  double run_seconds = 0.0;
};
TimeEstimate estimate_time(const Config& config, const ParameterCounts& counts, int64_t world_size,
                           int64_t tokens_per_pair, double peak_tflops, double mfu,
                           int64_t total_steps);

// "123.4 MiB" / "12.34 GiB".
std::string format_mib(double bytes);
// "parameters 1.2 GiB, gradients 3.4 GiB, master 0 MiB, optimizer 6.8 GiB, activations
// 1.0 GiB, buffers 0.5 GiB".
std::string category_line(const MemoryCategories& bytes);

}  // namespace omnirm::train
