// `omnirm bench memory --nproc N`: each ZeRO stage (0–3) trained by N CPU ranks over Gloo on
// the same batches from the same initial weights, one stage after another in the same
// processes. Per rank and stage it measures:
//   parameters, gradients, master, buffers   the peaks of what the sharded optimizer holds in
//                                            each category (dist/zero_engine.h); on the
//                                            replicated path the parameters, their .grad and
//                                            the all-reduce buckets
//   optimizer      the bytes of AdamW's state tensors
//   activations    the most a forward pass left allocated for its backward (CPU allocator
//                  bytes after forward minus before)
//   peak           the CPU allocator's peak over the measured steps (train/memory_meter.h),
//                  which also holds what the categories do not (temporaries of backward)
// and the step time and the bytes handed to collectives per step; rank 0 adds `omnirm plan`'s
// prediction for the same config and micro-batches (train/plan.h).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "omnirm/core/config.h"
#include "omnirm/dist/communicator.h"
#include "omnirm/train/plan.h"

namespace omnirm::train {

struct RankMemory {
  int64_t rank = 0;
  int64_t stage = 0;
  bool sharded_optimizer = false;
  MemoryCategories measured;        // per-category peaks
  double peak = 0.0;                // the allocator's peak
  double step_seconds = 0.0;        // mean over the measured steps
  dist::CollectiveTraffic traffic;  // per step
};

struct BenchMemoryRanks {
  int64_t world_size = 0;
  int64_t steps = 0;
  std::string backend;
  std::vector<RankMemory> ranks;  // every (stage, rank)
  // The plan for the same config and the longest micro-batch measured.
  std::vector<StagePlan> plan;
  int64_t plan_tokens = 0;
  int64_t plan_rows = 0;
  int64_t plan_row_length = 0;
};

// On each rank of the group the environment describes: one warm-up and `steps` measured steps
// per stage. Every rank returns its own figures (rank 0 also the plan).
BenchMemoryRanks bench_memory_rank(const Config& config, int64_t steps);

nlohmann::json to_json(const BenchMemoryRanks& result);
BenchMemoryRanks bench_memory_ranks_from_json(const nlohmann::json& json);
// Several ranks' results (each with its own ranks) as one.
BenchMemoryRanks merge_rank_results(const std::vector<BenchMemoryRanks>& parts);

std::string format_bench_memory_ranks(const BenchMemoryRanks& result);

}  // namespace omnirm::train
