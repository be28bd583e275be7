// `omnirm bench memory`: peak CPU memory per optimizer step for one config under four
// settings measured side by side in one process, on the same batches from the same initial
// weights — fp32 and bf16 compute, each with activation checkpointing off and on (every
// block) — as ratios against fp32 without checkpointing. Memory is what LibTorch's CPU
// allocator holds (train/memory_meter.h): weights, gradients, optimizer state and the
// activations a step keeps for its backward pass.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "omnirm/core/config.h"

namespace omnirm::train {

struct MemorySetting {
  std::string precision;             // fp32 | bf16
  int64_t activation_checkpointing;  // 0 off, 1 every block
  int64_t peak_bytes = 0;            // the highest bytes held during any measured step
  int64_t step_peak_bytes = 0;       // the highest rise above the step's starting bytes
  double seconds = 0.0;              // measured steps
  int64_t steps = 0;
  double final_loss = 0.0;  // mean loss of the last measured step
  std::string name() const;
};

struct BenchMemoryResult {
  std::vector<MemorySetting> settings;  // the first one is the baseline
};

// Runs one untimed step (which allocates the optimizer state) then `steps` measured steps
// for each setting.
BenchMemoryResult bench_memory(const Config& config, int64_t steps);

std::string format_bench_memory(const BenchMemoryResult& result);

}  // namespace omnirm::train
