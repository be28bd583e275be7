// A training run's pieces, built by setup_training and driven by run_step_loop
// (train/trainer.h's run_training is the two in a row): the process's place in the data-
// parallel group, the data, the model with its optimizer (the replicated path or the sharded
// optimizer, train/zero_training.h), the resumed state and the metrics log.
#pragma once

#include <torch/optim/optimizer.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "omnirm/core/config.h"
#include "omnirm/data/loader.h"
#include "omnirm/dist/communicator.h"
#include "omnirm/dist/grad_sync.h"
#include "omnirm/dist/rank_log.h"
#include "omnirm/dist/world.h"
#include "omnirm/dist/zero.h"
#include "omnirm/infer/benchmark_scoring.h"
#include "omnirm/model/reward_model.h"
#include "omnirm/text/tokenizer.h"
#include "omnirm/train/checkpoint.h"
#include "omnirm/train/dataset.h"
#include "omnirm/train/loss_scaler.h"
#include "omnirm/train/media_hook.h"
#include "omnirm/train/progress.h"
#include "omnirm/train/step.h"
#include "omnirm/train/trainer.h"
#include "omnirm/train/zero_training.h"

namespace omnirm::train {

struct TrainingRun {
  Config config;  // resolved (train.init_from applied)
  dist::World world;
  at::Device device{at::kCPU};
  std::unique_ptr<dist::Communicator> comm;  // null for a single process
  dist::RankLog log;
  bool main = true;
  std::unique_ptr<text::Tokenizer> tokenizer;
  MediaSetup media;
  std::unique_ptr<data::Loader> loader;
  std::optional<EncodedDataset> eval_set;
  std::optional<infer::LoadedBenchmark> benchmark;  // evaluated by the main process only
  int64_t total_steps = 0;

  model::RewardModel model{nullptr};
  // Either the sharded optimizer (declared after the model: it unhooks the model when it
  // goes) or the replicated path's helpers.
  std::unique_ptr<ZeroTraining> zero;
  std::unique_ptr<dist::ParameterShards> shards;
  std::unique_ptr<dist::GradSync> grad_sync;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::unique_ptr<LossScaler> loss_scaler;

  TrainerState state;
  std::optional<std::string> resumed_from;
  std::optional<MetricsLog> metrics;  // the main process's

  bool evaluates() const { return eval_set.has_value() || benchmark.has_value(); }
  int64_t zero_stage() const { return config.dist.zero_stage; }
  dist::ZeroEngine* engine() const { return zero ? &zero->engine() : nullptr; }
  CheckpointRanks checkpoint_ranks() const;
  DataParallelStep parallel_step() const;
};

// Everything up to the first step: validates the combination of config and world, loads the
// data, builds the model and optimizer, checks the memory plan against train.memory_budget_mb,
// resumes (options.resume), and only then writes config.yaml and opens metrics.jsonl.
std::unique_ptr<TrainingRun> setup_training(const Config& requested, const TrainOptions& options);

// Trains from run.state.step to run.total_steps: steps, metrics every train.log_every steps,
// evaluation, checkpoints and checkpoints/best; returns what run_training reports.
TrainResult run_step_loop(TrainingRun& run);

}  // namespace omnirm::train
