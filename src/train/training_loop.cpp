// run_step_loop (train/training_run.h): the optimizer steps of a run, with the metrics of each
// log interval read from the device once (train/interval_stats.h), evaluation, checkpoints and
// checkpoints/best. Under ZeRO-3 the steps that evaluate or publish a model gather the full
// weights on rank 0 (every rank takes part in the gathers).
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <thread>

#include "omnirm/core/error.h"
#include "omnirm/train/batching.h"
#include "omnirm/train/best_checkpoint.h"
#include "omnirm/train/interval_stats.h"
#include "omnirm/train/schedule.h"
#include "omnirm/train/training_eval.h"
#include "omnirm/train/training_run.h"

namespace omnirm::train {

namespace {

using Clock = std::chrono::steady_clock;

// Whether the fault named by `variable` (its value: a step) fires after `step` on `rank`.
// OMNIRM_FAULT_RANK=<r> limits every fault to rank r; unset, they fire on all ranks.
bool fault_due(const char* variable, int64_t step, int64_t rank) {
  const char* value = std::getenv(variable);
  if (value == nullptr || std::atoll(value) != step) return false;
  const char* only_rank = std::getenv("OMNIRM_FAULT_RANK");
  return only_rank == nullptr || std::atoll(only_rank) == rank;
}

// Fault injection for the crash-safety tests, right after an optimizer step (and its
// checkpoint, if one is due): OMNIRM_FAULT_KILL_AT_STEP=<step> sends SIGKILL to this process;
// OMNIRM_FAULT_STALL_AT_STEP=<step> makes it stop responding (sleep) for ten minutes.
void maybe_fail_after_step(int64_t step, int64_t rank) {
  if (fault_due("OMNIRM_FAULT_KILL_AT_STEP", step, rank)) std::raise(SIGKILL);
  if (fault_due("OMNIRM_FAULT_STALL_AT_STEP", step, rank)) {
    std::this_thread::sleep_for(std::chrono::minutes(10));
  }
}

// "optimizer state per rank: 1234, 1180 bytes (dist.zero_stage 1)".
std::string optimizer_state_line(dist::Communicator& comm, const torch::optim::Optimizer& optimizer,
                                 int64_t zero_stage) {
  const std::vector<double> bytes = comm.all_gather(double(optimizer_state_bytes(optimizer)),
                                                    "the gather of optimizer state sizes");
  std::string list;
  for (double b : bytes) list += (list.empty() ? "" : ", ") + std::to_string(std::llround(b));
  return fmt::format("optimizer state per rank: {} bytes (dist.zero_stage {})", list, zero_stage);
}

// The value of `metric` in an evaluation record, if it holds a number under that key.
std::optional<double> metric_value(const nlohmann::json& record, const std::string& metric) {
  const auto found = record.find(metric);
  if (found == record.end() || !found->is_number()) return std::nullopt;
  return found->get<double>();
}

// "eval/accuracy, eval/loss, bench/overall_with_ties, ..." for messages.
std::string metric_names(const nlohmann::json& record) {
  std::string names;
  for (const auto& [key, value] : record.items()) {
    if (key == "step") continue;
    names += (names.empty() ? "" : ", ") + key;
  }
  return names;
}

// This rank's share of a loader batch, packed for the model.
std::vector<PackedBatch> pack_share(const data::LoaderBatch& batch, const Config& config,
                                    const std::optional<data::MediaLayout>& layout) {
  std::vector<PackedBatch> packed;
  packed.reserve(batch.micro_batches.size());
  for (const data::MicroBatch& micro : batch.micro_batches) {
    if (micro.pairs.empty()) continue;
    std::vector<const data::EncodedPair*> pairs;
    for (const data::EncodedPair& pair : micro.pairs) pairs.push_back(&pair);
    packed.push_back(
        pack_batch(pairs, config.model.prefix_sharing, config.train.margin_scale, layout));
  }
  return packed;
}

// Under ZeRO-3, the full weights on the main process for the life of this object (every
// rank must make one at the same step); below stage 3 nothing happens.
class FullWeights {
 public:
  explicit FullWeights(TrainingRun& run) {
    if (run.engine() != nullptr) full_.emplace(*run.engine(), /*keep=*/run.main);
  }

 private:
  std::optional<dist::ZeroEngine::FullParameters> full_;
};

// Whether `record` beats the best so far under train.best_metric (and records it).
bool track_best(TrainingRun& run, const nlohmann::json& record, int64_t step) {
  const TrainConfig& tc = run.config.train;
  const std::optional<double> value = metric_value(record, tc.best_metric);
  if (!value) {
    if (tc.best_metric == "eval/accuracy" && !run.eval_set) return false;  // the default, unused
    throw UserError("train.best_metric: '" + tc.best_metric +
                    "' is not among the evaluation metrics (" + metric_names(record) +
                    "); pick one of them");
  }
  if (run.state.best_step > 0 && !is_better_value(*value, run.state.best_value, tc.best_mode)) {
    return false;
  }
  run.state.best_step = step;
  run.state.best_value = *value;
  run.state.best_metric = tc.best_metric;
  return true;
}

struct LoopReport {
  std::optional<eval::EvalMetrics> last_eval;
  int64_t last_eval_step = -1;
};

// Evaluates on the main process (the others take part in ZeRO-3's gathers) and writes the
// record; returns whether it is a new best.
bool evaluate_at(TrainingRun& run, int64_t step, bool last, LoopReport& report,
                 ProgressLine& progress) {
  FullWeights full(run);
  report.last_eval_step = step;  // on every rank: they all take part in the gathers
  if (!run.main) return false;
  const TrainingEvaluation evaluation = evaluate_during_training(
      *run.model, run.eval_set, run.benchmark, run.config, run.device, step);
  run.metrics->write(evaluation.record);
  report.last_eval = evaluation.eval;
  const bool new_best = track_best(run, evaluation.record, step);
  progress.interrupt();
  if (report.last_eval && !last) {
    run.log.print(fmt::format("eval @ step {}: loss {:.4f} accuracy {:.4f}", step,
                              report.last_eval->loss, report.last_eval->accuracy));
  }
  if (run.benchmark) {
    std::string line = fmt::format("bench @ step {}: {}", step, run.benchmark->name());
    for (const auto& [key, value] : evaluation.record.items()) {
      if (key.starts_with("bench/overall") || key == "bench/macro") {
        line += fmt::format(" {} {:.4f}", key.substr(6), value.get<double>());
      }
    }
    run.log.print(line);
  }
  if (new_best) {
    run.log.print(fmt::format("best {} {:.4f} at step {}", run.config.train.best_metric,
                              run.state.best_value, step));
  }
  return new_best;
}

}  // namespace

TrainResult run_step_loop(TrainingRun& run) {
  const Config& config = run.config;
  const TrainConfig& tc = config.train;
  TrainerState& state = run.state;
  ProgressLine progress(run.total_steps, state.step, tc.log_every, run.log.prefix());
  TrainResult result;
  result.main_process = run.main;
  const int64_t first_step = state.step;
  data::EncodeCounts encode_counts;
  int64_t skipped_records = 0;
  LoopReport report;
  IntervalStats interval;
  auto interval_start = Clock::now();
  const DataParallelStep parallel = run.parallel_step();
  while (state.step < run.total_steps) {
    std::optional<data::LoaderBatch> batch = run.loader->next();
    if (!batch) break;  // train.epochs are done
    encode_counts.truncated += batch->counts.truncated;
    encode_counts.dropped += batch->counts.dropped;
    skipped_records += batch->skipped;
    const std::vector<PackedBatch> share = pack_share(*batch, config, run.media.layout);
    state.epoch = batch->next.epoch;
    state.data_position = batch->next.to_json();
    const double lr = learning_rate_at(state.step, run.total_steps, tc);
    // Losses are weighted by the plan's pair count, so pairs the length policy dropped (known
    // only to their own rank) count as zero rather than shift every rank's weights.
    const StepStats stats = optimizer_step(*run.model, *run.optimizer, share, batch->global_pairs,
                                           config, lr, run.device, parallel, run.loss_scaler.get());
    if (run.loss_scaler->enabled()) {
      state.loss_scale = run.loss_scaler->scale();
      state.skipped_steps = run.loss_scaler->skipped_steps();
    }
    interval.add(stats);
    ++state.step;
    const bool last = state.step == run.total_steps;

    if (run.comm && state.step == first_step + 1) {
      const std::string line =
          optimizer_state_line(*run.comm, *run.optimizer, config.dist.zero_stage);
      progress.interrupt();
      run.log.print(line);
    }
    if (state.step % tc.log_every == 0 || last) {
      const IntervalSummary summary = interval.summary(run.comm.get());
      const double seconds = std::chrono::duration<double>(Clock::now() - interval_start).count();
      interval_start = Clock::now();
      const double tokens_per_second = double(summary.data_tokens) / seconds;
      if (run.log.enabled()) {
        progress.update(state.step, summary.loss, summary.accuracy, tokens_per_second);
      }
      if (run.main) {
        nlohmann::json record = {{"step", state.step},
                                 {"epoch", batch->epoch},
                                 {"loss", summary.loss},
                                 {"accuracy", summary.accuracy},
                                 {"reward_chosen", summary.reward_chosen},
                                 {"reward_rejected", summary.reward_rejected},
                                 {"margin", summary.margin},
                                 {"lr", lr},
                                 {"grad_norm", summary.grad_norm},
                                 {"pairs_per_s", double(summary.pairs) / seconds},
                                 {"tokens_per_s", tokens_per_second}};
        if (run.loss_scaler->enabled()) {
          record["loss_scale"] = stats.loss_scale;
          record["skipped_steps"] = run.loss_scaler->skipped_steps();
        }
        run.metrics->write(record);
      }
    }
    bool new_best = false;
    if (run.evaluates() && ((tc.eval_every > 0 && state.step % tc.eval_every == 0) || last)) {
      new_best = evaluate_at(run, state.step, last, report, progress);
      if (run.comm) {
        // The best step is known to rank 0 only; every rank saves the same state.
        const std::string best = run.comm->share_from_rank0(
            fmt::format("best/step-{}", state.step),
            fmt::format("{} {} {:.17g} {}", new_best ? 1 : 0, state.best_step, state.best_value,
                        state.best_metric));
        std::istringstream in(best);
        int flag = 0;
        in >> flag >> state.best_step >> state.best_value >> state.best_metric;
        new_best = flag != 0;
      }
    }
    const bool save_due = (tc.save_every > 0 && state.step % tc.save_every == 0) || last;
    if (save_due) {
      save_checkpoint(tc.output_dir, *run.model, *run.optimizer, state, config,
                      config.data.tokenizer, run.checkpoint_ranks());
      if (run.main) prune_checkpoints(tc.output_dir, tc.keep_last);
    }
    if (new_best) {
      const BestRecord best{state.step, tc.best_metric, state.best_value};
      if (save_due) {
        if (run.main) {
          publish_best_from_checkpoint(tc.output_dir, checkpoint_path(tc.output_dir, state.step),
                                       best);
        }
      } else {
        FullWeights full(run);
        if (run.main) {
          publish_best_from_model(tc.output_dir, *run.model, config, config.data.tokenizer, best);
        }
      }
    }
    maybe_fail_after_step(state.step, run.world.rank);
  }
  progress.interrupt();
  if (encode_counts.truncated > 0 || encode_counts.dropped > 0) {
    run.log.print(
        fmt::format("train data: {} pairs truncated, {} dropped as too long (data.max_length "
                    "{}, data.truncation {})",
                    encode_counts.truncated, encode_counts.dropped, config.data.max_length,
                    config.data.truncation));
  }
  if (skipped_records > 0) {
    run.log.print(
        fmt::format("train data: {} bad records skipped while training (data.on_bad_record: "
                    "skip)",
                    skipped_records));
  }
  result.steps = state.step;
  if (run.evaluates() && report.last_eval_step != state.step) {
    evaluate_at(run, state.step, /*last=*/true, report, progress);
  }
  if (run.main) result.final_eval = report.last_eval;
  return result;
}

}  // namespace omnirm::train
