// Implementation of train/training_eval.h.
#include "omnirm/train/training_eval.h"

#include "omnirm/infer/pair_scoring.h"
#include "omnirm/ops/autocast.h"

namespace omnirm::train {

TrainingEvaluation evaluate_during_training(model::RewardModelImpl& model,
                                            const std::optional<EncodedDataset>& eval_set,
                                            const std::optional<infer::LoadedBenchmark>& benchmark,
                                            const Config& config, at::Device device, int64_t step) {
  // bf16 weights cannot meet the towers' fp32 inputs outside autocast.
  const ops::Precision precision =
      config.train.param_dtype == "bf16" ? ops::Precision::bf16 : ops::Precision::fp32;
  ops::AutocastScope autocast(device.type(), precision);
  TrainingEvaluation out;
  out.record = {{"step", step}};
  if (eval_set) {
    out.eval = eval::summarize_scores(infer::score_pairs(model, *eval_set, config.eval.batch_pairs,
                                                         config.model.prefix_sharing, device));
    out.record.update(eval::metrics_json(*out.eval, "eval/"));
  }
  if (benchmark) {
    const infer::BenchmarkOutcome outcome = infer::evaluate_benchmark(
        model, *benchmark, config.eval.batch_pairs, config.model.prefix_sharing, device);
    for (const auto& [key, value] : outcome.metrics) out.record["bench/" + key] = value;
  }
  return out;
}

}  // namespace omnirm::train
