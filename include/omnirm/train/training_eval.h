// The evaluation a training run makes every train.eval_every steps and at the end: data.eval
// scored with the evaluation metrics and the train.eval_benchmark with its own, as one
// metrics.jsonl record. One call, on the process that reports (rank 0), with the model's full
// weights present.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

#include "omnirm/core/config.h"
#include "omnirm/eval/pair_metrics.h"
#include "omnirm/infer/benchmark_scoring.h"
#include "omnirm/model/reward_model.h"
#include "omnirm/train/dataset.h"

namespace omnirm::train {

struct TrainingEvaluation {
  nlohmann::json record;                  // {"step": s, "eval/...": ..., "bench/...": ...}
  std::optional<eval::EvalMetrics> eval;  // data.eval's metrics, when there is an eval set
};

// Scores `eval_set` and `benchmark` (either may be absent) with the model in its current
// weights, through the inference area's scoring (infer/pair_scoring.h,
// infer/benchmark_scoring.h). A model stored in bf16 (train.param_dtype) is run under bf16
// autocast; evaluation otherwise computes in fp32.
TrainingEvaluation evaluate_during_training(model::RewardModelImpl& model,
                                            const std::optional<EncodedDataset>& eval_set,
                                            const std::optional<infer::LoadedBenchmark>& benchmark,
                                            const Config& config, at::Device device, int64_t step);

}  // namespace omnirm::train
