// The best checkpoint: <output_dir>/checkpoints/best holds the model of the evaluation step
// with the best value of train.best_metric, beside best.json {"step", "metric", "value"}.
// When that step has a regular checkpoint, best/ holds its files as hard links (copies where
// links fail), so it resumes like any checkpoint and survives keep_last pruning; otherwise it
// holds the model alone (model.safetensors, config.yaml, tokenizer.model or .json), enough to
// evaluate, score and export. A new best is built under a temporary name and swapped in with
// one rename, so a kill leaves the previous best or the new one, never a mixture.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "omnirm/core/config.h"
#include "omnirm/model/reward_model.h"

namespace omnirm::train {

struct BestRecord {
  int64_t step = 0;
  std::string metric;
  double value = 0.0;
};

std::string best_checkpoint_path(const std::string& output_dir);

// Whether `value` beats `best` under train.best_mode ("max" or "min"); strictly, so the
// earliest of equal values stays.
bool is_better_value(double value, double best, const std::string& mode);

// best/ becomes the files of the checkpoint directory `step_dir`, plus best.json.
void publish_best_from_checkpoint(const std::string& output_dir, const std::string& step_dir,
                                  const BestRecord& record);

// best/ becomes the model's weights, the config and the tokenizer, plus best.json.
void publish_best_from_model(const std::string& output_dir, model::RewardModelImpl& model,
                             const Config& config, const std::string& tokenizer_path,
                             const BestRecord& record);

// What best/best.json says, if best/ exists.
std::optional<BestRecord> read_best_record(const std::string& output_dir);

}  // namespace omnirm::train
