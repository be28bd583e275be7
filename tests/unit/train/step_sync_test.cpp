// A training step never reads a device tensor on the host: counted on the CPU by observing
// every ATen call for aten::_local_scalar_dense (what .item() and friends come down to),
// on the replicated path and through the sharded optimizer with bf16 parameters; on a GPU
// (skipped without one) CUDA's sync-debug mode turns any synchronising call into an error.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <string>
#include <vector>

#include "omnirm/data/pair_batch.h"
#include "omnirm/train/interval_stats.h"
#include "omnirm/train/step.h"
#include "omnirm/train/trainer.h"
#include "omnirm/train/zero_training.h"
#include "support/host_reads.h"

#if __has_include(<c10/cuda/CUDAFunctions.h>)
#include <c10/cuda/CUDAFunctions.h>
#define OMNIRM_TEST_SYNC_DEBUG 1
#endif

namespace {

omnirm::Config tiny_config() {
  omnirm::Config config;
  config.model.hidden_size = 16;
  config.model.num_heads = 2;
  config.model.num_kv_heads = 1;
  config.model.intermediate_size = 32;
  config.train.max_grad_norm = 1.0;
  return config;
}

std::vector<omnirm::train::PackedBatch> batches() {
  static const std::vector<omnirm::text::PairTokens> pairs = {{{1, 2, 3}, {4, 5}, {6}},
                                                              {{7, 8}, {9, 10, 11}, {12, 13}}};
  std::vector<const omnirm::text::PairTokens*> pointers = {&pairs[0], &pairs[1]};
  return {{omnirm::data::pack_pairs(pointers, {0.0f, 0.0f}, true), {}, 0},
          {omnirm::data::pack_pairs(pointers, {0.0f, 0.0f}, true), {}, 0}};
}

// Sets CUDA's sync-debug mode to "error" while alive (no-op without CUDA headers).
class SyncDebugError {
 public:
  explicit SyncDebugError(bool on) : on_(on) {
#ifdef OMNIRM_TEST_SYNC_DEBUG
    if (on_) c10::cuda::warning_state().set_sync_debug_mode(c10::cuda::SyncDebugMode::L_ERROR);
#endif
  }
  ~SyncDebugError() {
#ifdef OMNIRM_TEST_SYNC_DEBUG
    if (on_) c10::cuda::warning_state().set_sync_debug_mode(c10::cuda::SyncDebugMode::L_DISABLED);
#endif
  }

 private:
  bool on_;
};

int64_t host_reads_of_steps(const omnirm::Config& config, at::Device device,
                            bool sync_debug = false) {
  at::manual_seed(5);
  omnirm::model::RewardModel model(config.model, 20);
  omnirm::model::initialize_weights(*model);
  omnirm::train::apply_param_dtype(*model, config.train.param_dtype);
  model->to(device);
  model->train();
  std::unique_ptr<omnirm::train::ZeroTraining> zero;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  omnirm::train::DataParallelStep parallel;
  if (omnirm::train::uses_zero_engine(config)) {
    zero = std::make_unique<omnirm::train::ZeroTraining>(*model, config, nullptr);
    optimizer = zero->make_optimizer(config.train);
    parallel.zero = &zero->engine();
  } else {
    optimizer = omnirm::train::make_optimizer(*model, config.train);
  }
  const auto micro = batches();
  omnirm::train::IntervalStats interval;
  int64_t reads = 0;
  for (int step = 0; step < 3; ++step) {
    const omnirm::testing::HostReadCounter counter;
    omnirm::train::StepStats stats;
    {
      SyncDebugError debug(sync_debug && step > 0);  // the first step allocates and selects
      stats = omnirm::train::optimizer_step(*model, *optimizer, micro, 4, config, 1e-3, device,
                                            parallel);
    }
    interval.add(stats);
    reads += counter.count();
  }
  // The interval's one read happens in summary(), outside the steps.
  const auto summary = interval.summary(nullptr);
  EXPECT_EQ(summary.steps, 3);
  EXPECT_EQ(summary.pairs, 12);
  EXPECT_GT(summary.loss, 0.0);
  return reads;
}

TEST(StepSync, TheReplicatedStepReadsNothingOnTheHost) {
  EXPECT_EQ(host_reads_of_steps(tiny_config(), at::Device(at::kCPU)), 0);
}

TEST(StepSync, TheShardedStepReadsNothingOnTheHost) {
  omnirm::Config config = tiny_config();
  config.train.param_dtype = "bf16";
  config.train.precision = "bf16";
  config.dist.zero_stage = 3;
  EXPECT_EQ(host_reads_of_steps(config, at::Device(at::kCPU)), 0);
}

TEST(StepSync, TheCounterSeesAnItemCall) {
  const omnirm::testing::HostReadCounter counter;
  const double value = at::ones({}).item<double>();
  EXPECT_EQ(value, 1.0);
  EXPECT_GE(counter.count(), 1);
}

TEST(StepSync, OnAGpuNoStepCallSynchronises) {
  if (!torch::cuda::is_available())
    GTEST_SKIP() << "no CUDA device: the sync-debug check needs one";
#ifdef OMNIRM_TEST_SYNC_DEBUG
  omnirm::Config config = tiny_config();
  config.train.param_dtype = "bf16";
  config.train.precision = "bf16";
  config.dist.zero_stage = 2;
  try {
    EXPECT_EQ(host_reads_of_steps(config, at::Device(at::kCUDA, 0), /*sync_debug=*/true), 0);
  } catch (const std::exception& error) {
    ADD_FAILURE() << "a step synchronised with the device: " << error.what();
  }
#else
  GTEST_SKIP() << "LibTorch without CUDA headers";
#endif
}

}  // namespace
