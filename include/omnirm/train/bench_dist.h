// `omnirm bench dist`: what data parallelism buys on this machine. It times optimizer steps
// of the same global batch on one rank and on several, and, on the ranks, how much of the
// gradient all-reduce hides behind backward: backward alone (no communication), the
// all-reduce of the same buckets alone, and backward with the bucketed all-reduce overlapped.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "omnirm/core/config.h"

namespace omnirm::train {

struct StepTiming {
  int64_t ranks = 1;
  int64_t threads_per_rank = 1;
  double step_seconds = 0.0;  // fastest optimizer step (slowest rank)
};

struct OverlapTiming {
  double backward = 0.0;       // fastest backward without communication
  double all_reduce = 0.0;     // fastest all-reduce of the gradient buckets alone
  double backward_sync = 0.0;  // fastest backward with the overlapped all-reduce
  int64_t buckets = 0;
  int64_t gradient_bytes = 0;
  // The share of the all-reduce that cost no extra time: (backward + all_reduce −
  // backward_sync) / all_reduce, clamped to [0, 1].
  double hidden_fraction() const;
};

struct BenchDistResult {
  std::string backend;
  int64_t global_batch_pairs = 0;
  int64_t micro_batch_pairs = 0;
  int64_t steps = 0;
  StepTiming single;
  StepTiming parallel;
  OverlapTiming overlap;
  double step_time_ratio() const { return parallel.step_seconds / single.step_seconds; }
};

// Times `steps` optimizer steps after `warmup` untimed ones in this process alone.
StepTiming bench_single_rank(const Config& config, int64_t steps, int64_t warmup);

// Joins the data-parallel group described by the environment (torchrun's variables) and
// times steps and the overlap there; every rank returns the slowest rank's figures.
BenchDistResult bench_parallel_ranks(const Config& config, int64_t steps, int64_t warmup);

nlohmann::json to_json(const BenchDistResult& result);
BenchDistResult bench_dist_from_json(const nlohmann::json& json);

std::string format_bench_dist(const BenchDistResult& result);

}  // namespace omnirm::train
