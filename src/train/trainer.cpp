// Implementation of train/trainer.h.
#include "omnirm/train/trainer.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/cuda.h>
#include <torch/optim/adamw.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "omnirm/core/error.h"
#include "omnirm/data/loader.h"
#include "omnirm/dist/communicator.h"
#include "omnirm/dist/grad_sync.h"
#include "omnirm/dist/rank_log.h"
#include "omnirm/dist/world.h"
#include "omnirm/dist/zero.h"
#include "omnirm/infer/benchmark_scoring.h"
#include "omnirm/infer/pair_scoring.h"
#include "omnirm/io/atomic_dir.h"
#include "omnirm/model/cudnn_tuning.h"
#include "omnirm/model/lora.h"
#include "omnirm/train/batching.h"
#include "omnirm/train/best_checkpoint.h"
#include "omnirm/train/checkpoint.h"
#include "omnirm/train/dataset.h"
#include "omnirm/train/init_from.h"
#include "omnirm/train/loss_scaler.h"
#include "omnirm/train/media_hook.h"
#include "omnirm/train/progress.h"
#include "omnirm/train/schedule.h"
#include "omnirm/train/step.h"

namespace omnirm::train {

namespace {

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

// The step's statistics over all ranks: sums, and the loss averaged (each rank's loss is
// the mean over an equal share of the pairs). grad_norm is already the same on every rank.
StepStats all_reduce_stats(dist::Communicator& comm, StepStats stats) {
  const std::vector<double> sums =
      comm.all_reduce_sum({stats.loss, double(stats.correct), double(stats.data_tokens),
                           double(stats.backbone_tokens), double(stats.pairs)},
                          "the all-reduce of the step metrics");
  stats.loss = sums[0] / double(comm.size());
  stats.correct = std::llround(sums[1]);
  stats.data_tokens = std::llround(sums[2]);
  stats.backbone_tokens = std::llround(sums[3]);
  stats.pairs = std::llround(sums[4]);
  return stats;
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

// "train data: a.jsonl: 4000 usable pairs, 4000 per epoch (2 bad records skipped)".
std::string index_line(const data::DatasetIndexSummary& s) {
  std::string line =
      fmt::format("train data: {}: {} usable pairs, {} per epoch", s.path, s.usable, s.per_epoch);
  std::vector<std::string> notes;
  if (s.bad > 0) notes.push_back(fmt::format("{} bad records skipped", s.bad));
  if (s.ties > 0) notes.push_back(fmt::format("{} ties left out", s.ties));
  if (s.selected < s.usable) notes.push_back(fmt::format("capped to {}", s.selected));
  if (!notes.empty()) line += " (" + fmt::format("{}", fmt::join(notes, ", ")) + ")";
  return line;
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

}  // namespace

at::Device training_device(const std::string& setting, int64_t local_rank) {
  const auto gpus = static_cast<int64_t>(torch::cuda::device_count());
  if (setting == "cpu" || (setting == "auto" && gpus == 0)) return at::Device(at::kCPU);
  if (gpus == 0) {
    throw UserError(
        "train.device: cuda, but this process sees no CUDA device; set train.device=cpu (or "
        "auto) or check CUDA_VISIBLE_DEVICES");
  }
  return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(local_rank % gpus));
}

std::vector<at::Tensor> trainable_parameters(model::RewardModelImpl& model) {
  std::vector<at::Tensor> trainable;
  for (const at::Tensor& p : model.parameters()) {
    if (p.requires_grad()) trainable.push_back(p);
  }
  return trainable;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(model::RewardModelImpl& model,
                                                        const TrainConfig& config) {
  return make_optimizer(trainable_parameters(model), config);
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::vector<at::Tensor>& params,
                                                        const TrainConfig& config) {
  std::vector<at::Tensor> decay, no_decay;
  for (const auto& p : params) (p.dim() >= 2 ? decay : no_decay).push_back(p);
  auto options = [&](double weight_decay) {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(config.lr)
            .betas({config.adam_beta1, config.adam_beta2})
            .eps(config.adam_eps)
            .weight_decay(weight_decay));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  if (!decay.empty()) groups.emplace_back(decay, options(config.weight_decay));
  if (!no_decay.empty()) groups.emplace_back(no_decay, options(0.0));
  return std::make_unique<torch::optim::AdamW>(std::move(groups),
                                               torch::optim::AdamWOptions(config.lr));
}

int64_t optimizer_state_bytes(const torch::optim::Optimizer& optimizer) {
  int64_t bytes = 0;
  auto add = [&](const at::Tensor& tensor) {
    if (tensor.defined()) bytes += tensor.numel() * int64_t(tensor.element_size());
  };
  for (const auto& [key, state] : optimizer.state()) {
    if (const auto* adamw = dynamic_cast<const torch::optim::AdamWParamState*>(state.get())) {
      add(adamw->exp_avg());
      add(adamw->exp_avg_sq());
      add(adamw->max_exp_avg_sq());
    }
  }
  return bytes;
}

TrainResult run_training(const Config& requested, const TrainOptions& options) {
  namespace fs = std::filesystem;
  // With train.init_from the model's shape (and by default the tokenizer) come from there.
  const Config config = resolve_init_from(requested);
  const TrainConfig& tc = config.train;
  if (tc.threads > 0) at::set_num_threads(static_cast<int>(tc.threads));
  if (config.data.train.empty() && config.data.mix.empty()) {
    throw UserError("data.train: no training file given (set data.train or data.mix)");
  }
  if (config.data.tokenizer.empty()) {
    throw UserError("data.tokenizer: no tokenizer given; make one with `omnirm tokenizer train`");
  }
  const dist::World world = dist::world_from_environment();
  check_batch_split(tc, world.size);
  const at::Device device = training_device(tc.device, world.local_rank);
  std::unique_ptr<dist::Communicator> comm;
  if (world.distributed()) comm = std::make_unique<dist::Communicator>(world, config.dist, device);
  const dist::RankLog log = world.distributed()
                                ? dist::RankLog(world.rank, world.size, config.dist.verbose)
                                : dist::RankLog();
  const bool main = world.is_main();
  if (device.is_cuda()) log.print("device: " + device.str());
  if (model::use_cudnn_autotuning(config.model, device)) {
    log.print("cuDNN benchmark mode: on (the towers' convolution stems see fixed shapes)");
  }

  const text::Tokenizer tokenizer = text::Tokenizer::load(config.data.tokenizer);
  const MediaSetup media = make_media_setup(config, tokenizer);
  data::LoaderOptions loader_options =
      data::loader_options_from_config(config, world.rank, world.size);
  loader_options.media_layout = media.layout;
  loader_options.minicpmo_layout = media.minicpmo;
  loader_options.media_hook = media.hook;
  data::Loader loader(tokenizer, std::move(loader_options));
  for (const data::DatasetIndexSummary& summary : loader.index_summary()) {
    log.print(index_line(summary));
  }
  std::optional<EncodedDataset> eval_set;
  if (!config.data.eval.empty()) {
    eval_set = load_encoded_dataset(config.data.eval, tokenizer, config, /*keep_ties=*/true,
                                    infer::DatasetUse::scoring);
    log.print(fmt::format("eval data:  {}: {}", config.data.eval, eval_set->summary_line()));
  }
  std::optional<infer::LoadedBenchmark> benchmark;  // evaluated by the main process only
  if (main && !tc.eval_benchmark.empty()) {
    benchmark = infer::load_benchmark(
        data::parse_benchmark_format(tc.eval_benchmark_format, "train.eval_benchmark_format"),
        tc.eval_benchmark, tokenizer, config);
    log.print(fmt::format("eval benchmark: {} {}: {}", benchmark->name(), tc.eval_benchmark,
                          benchmark->summary_line()));
  }
  if (tc.best_metric.starts_with("bench/") && tc.eval_benchmark.empty()) {
    throw UserError("train.best_metric: '" + tc.best_metric +
                    "' needs a benchmark; set train.eval_benchmark or pick an eval/ metric");
  }

  const int64_t steps_per_epoch = loader.steps_per_epoch();
  if (steps_per_epoch == 0) {
    throw UserError("the training data has no usable pairs; check data.train / data.mix");
  }
  const int64_t total_steps = tc.max_steps > 0 ? tc.max_steps : tc.epochs * steps_per_epoch;

  at::manual_seed(static_cast<uint64_t>(tc.seed));
  model::RewardModel model(config.model, model_vocab_size(config.model, tokenizer));
  model::initialize_weights(*model);
  if (!tc.init_from.empty()) {
    const std::string loaded = load_initial_weights(*model, tc.init_from);
    log.print("initialised from " + tc.init_from + ": " + loaded);
  }
  if (config.lora.rank > 0) {
    const int64_t adapted = model::apply_lora(*model, config.lora);
    int64_t trainable = 0, total = 0;
    for (const at::Tensor& p : model->parameters()) {
      total += p.numel();
      if (p.requires_grad()) trainable += p.numel();
    }
    log.print(fmt::format("LoRA: rank {} on {} projections; {} of {} parameters train ({:.2f}%)",
                          config.lora.rank, adapted, trainable, total,
                          100.0 * double(trainable) / double(total)));
  }
  model->to(device);
  model->train();
  model->set_activation_checkpointing(tc.activation_checkpointing);
  // fp16 scales the loss dynamically; fp32 and bf16 need no scaling.
  LossScaler loss_scaler(tc.precision == "fp16");
  const bool zero = comm != nullptr && config.dist.zero_stage == 1;
  std::unique_ptr<dist::ParameterShards> shards;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  if (zero) {
    shards = std::make_unique<dist::ParameterShards>(*comm, trainable_parameters(*model));
    optimizer = make_optimizer(shards->owned(), tc);
  } else {
    optimizer = make_optimizer(*model, tc);
  }
  const CheckpointRanks ranks{comm.get(), zero};

  TrainerState state;
  state.total_steps = total_steps;
  state.data_position = loader.position().to_json();
  state.seed = tc.seed;
  state.world_size = world.size;
  state.zero_stage = zero ? 1 : 0;
  std::optional<std::string> resume_from;
  if (options.resume == "auto") {
    resume_from = latest_checkpoint(tc.output_dir);
  } else if (!options.resume.empty()) {
    resume_from = options.resume;
  } else if (latest_checkpoint(tc.output_dir)) {
    throw UserError(tc.output_dir +
                    " already holds checkpoints; pass --resume auto to continue "
                    "that run, or choose another train.output_dir");
  }
  if (resume_from) {
    const TrainerState saved = load_checkpoint(*resume_from, *model, *optimizer, ranks);
    if (saved.seed != tc.seed) {
      throw UserError(
          fmt::format("{}: checkpoint was made with train.seed {}, this run has {}; "
                      "resume with the same train.seed",
                      *resume_from, saved.seed, tc.seed));
    }
    const std::string origin = (fs::path(*resume_from) / "trainer_state.json").string();
    loader.seek(data::LoaderPosition::from_json(saved.data_position, origin));
    state = saved;
    state.total_steps = total_steps;
    if (loss_scaler.enabled() && saved.loss_scale > 0.0) {
      loss_scaler.restore(saved.loss_scale, saved.skipped_steps);
    }
    log.print(fmt::format("resumed from {} at step {}", *resume_from, state.step));
    // A kill between a step's checkpoint and its best/ leaves best/ behind: catch up.
    const std::optional<BestRecord> best = read_best_record(tc.output_dir);
    const std::string best_step_dir = checkpoint_path(tc.output_dir, state.best_step);
    if (main && state.best_step > 0 && (!best || best->step != state.best_step) &&
        fs::exists(best_step_dir)) {
      publish_best_from_checkpoint(tc.output_dir, best_step_dir,
                                   {state.best_step, state.best_metric, state.best_value});
    }
  }
  // After any resume, so that every rank starts from rank 0's weights.
  std::unique_ptr<dist::GradSync> grad_sync;
  if (comm) {
    grad_sync = std::make_unique<dist::GradSync>(*comm, trainable_parameters(*model),
                                                 config.dist.bucket_mb);
    log.print(fmt::format("data parallel: {} ranks over {}, dist.zero_stage {}", world.size,
                          comm->backend(), zero ? 1 : 0));
  }
  const DataParallelStep parallel{world.rank, world.size, grad_sync.get(), shards.get()};

  std::optional<MetricsLog> metrics;
  if (main) {
    fs::create_directories(tc.output_dir);
    io::write_file_atomic((fs::path(tc.output_dir) / "config.yaml").string(), dump_config(config));
    metrics.emplace((fs::path(tc.output_dir) / "metrics.jsonl").string(),
                    tc.tensorboard ? (fs::path(tc.output_dir) / "tb").string() : "");
    if (resume_from) metrics->mark_resume(state.step + 1);
  }
  ProgressLine progress(total_steps, state.step, tc.log_every, log.prefix());

  // Evaluates data.eval and the benchmark into one metrics.jsonl record; returns it.
  const bool evaluates = eval_set.has_value() || benchmark.has_value();
  std::optional<eval::EvalMetrics> last_eval;
  int64_t last_eval_step = -1;
  auto evaluate = [&](int64_t step) {
    nlohmann::json record = {{"step", step}};
    if (eval_set) {
      last_eval = eval::summarize_scores(infer::score_pairs(
          *model, *eval_set, config.eval.batch_pairs, config.model.prefix_sharing, device));
      record.update(eval::metrics_json(*last_eval, "eval/"));
    }
    if (benchmark) {
      const infer::BenchmarkOutcome outcome = infer::evaluate_benchmark(
          *model, *benchmark, config.eval.batch_pairs, config.model.prefix_sharing, device);
      for (const auto& [key, value] : outcome.metrics) record["bench/" + key] = value;
    }
    metrics->write(record);
    last_eval_step = step;
    return record;
  };
  // Whether the record beats the best so far under train.best_metric (and records it).
  auto track_best = [&](const nlohmann::json& record, int64_t step) {
    const std::optional<double> value = metric_value(record, tc.best_metric);
    if (!value) {
      if (tc.best_metric == "eval/accuracy" && !eval_set) return false;  // the default, unused
      throw UserError("train.best_metric: '" + tc.best_metric +
                      "' is not among the evaluation metrics (" + metric_names(record) +
                      "); pick one of them");
    }
    if (state.best_step > 0 && !is_better_value(*value, state.best_value, tc.best_mode)) {
      return false;
    }
    state.best_step = step;
    state.best_value = *value;
    state.best_metric = tc.best_metric;
    return true;
  };

  TrainResult result;
  result.main_process = main;
  const int64_t first_step = state.step;
  data::EncodeCounts encode_counts;
  int64_t skipped_records = 0;
  while (state.step < total_steps) {
    const auto step_start = std::chrono::steady_clock::now();
    std::optional<data::LoaderBatch> batch = loader.next();
    if (!batch) break;  // train.epochs are done
    encode_counts.truncated += batch->counts.truncated;
    encode_counts.dropped += batch->counts.dropped;
    skipped_records += batch->skipped;
    const std::vector<PackedBatch> share = pack_share(*batch, config, media.layout);
    state.epoch = batch->next.epoch;
    state.data_position = batch->next.to_json();
    const double lr = learning_rate_at(state.step, total_steps, tc);
    // Losses are weighted by the plan's pair count, so pairs the length policy dropped (known
    // only to their own rank) count as zero rather than shift every rank's weights.
    StepStats stats = optimizer_step(*model, *optimizer, share, batch->global_pairs, config, lr,
                                     device, parallel, &loss_scaler);
    if (loss_scaler.enabled()) {
      state.loss_scale = loss_scaler.scale();
      state.skipped_steps = loss_scaler.skipped_steps();
    }
    if (comm) stats = all_reduce_stats(*comm, stats);
    ++state.step;
    const int64_t global_pairs = std::max<int64_t>(stats.pairs, 1);

    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - step_start).count();
    const double accuracy = double(stats.correct) / double(global_pairs);
    const double tokens_per_second = double(stats.data_tokens) / seconds;
    if (comm && state.step == first_step + 1) {
      const std::string line = optimizer_state_line(*comm, *optimizer, state.zero_stage);
      progress.interrupt();
      log.print(line);
    }
    if (log.enabled()) progress.update(state.step, stats.loss, accuracy, tokens_per_second);
    if (main && (state.step % tc.log_every == 0 || state.step == total_steps)) {
      nlohmann::json record = {{"step", state.step},
                               {"epoch", batch->epoch},
                               {"loss", stats.loss},
                               {"accuracy", accuracy},
                               {"lr", lr},
                               {"grad_norm", stats.grad_norm},
                               {"pairs_per_s", double(global_pairs) / seconds},
                               {"tokens_per_s", tokens_per_second}};
      if (loss_scaler.enabled()) {
        record["loss_scale"] = stats.loss_scale;
        record["skipped_steps"] = loss_scaler.skipped_steps();
      }
      metrics->write(record);
    }
    const bool last = state.step == total_steps;
    bool new_best = false;
    if (main && evaluates && ((tc.eval_every > 0 && state.step % tc.eval_every == 0) || last)) {
      const nlohmann::json record = evaluate(state.step);
      new_best = track_best(record, state.step);
      progress.interrupt();
      if (last_eval && !last) {
        log.print(fmt::format("eval @ step {}: loss {:.4f} accuracy {:.4f}", state.step,
                              last_eval->loss, last_eval->accuracy));
      }
      if (benchmark) {
        std::string line = fmt::format("bench @ step {}: {}", state.step, benchmark->name());
        for (const auto& [key, value] : record.items()) {
          if (key.starts_with("bench/overall") || key == "bench/macro") {
            line += fmt::format(" {} {:.4f}", key.substr(6), value.get<double>());
          }
        }
        log.print(line);
      }
      if (new_best) {
        log.print(
            fmt::format("best {} {:.4f} at step {}", tc.best_metric, state.best_value, state.step));
      }
    }
    const bool save_due = (tc.save_every > 0 && state.step % tc.save_every == 0) || last;
    if (save_due) {
      save_checkpoint(tc.output_dir, *model, *optimizer, state, config, config.data.tokenizer,
                      ranks);
      if (main) prune_checkpoints(tc.output_dir, tc.keep_last);
    }
    if (new_best) {
      const BestRecord best{state.step, tc.best_metric, state.best_value};
      if (save_due) {
        publish_best_from_checkpoint(tc.output_dir, checkpoint_path(tc.output_dir, state.step),
                                     best);
      } else {
        publish_best_from_model(tc.output_dir, *model, config, config.data.tokenizer, best);
      }
    }
    maybe_fail_after_step(state.step, world.rank);
  }
  progress.interrupt();
  if (encode_counts.truncated > 0 || encode_counts.dropped > 0) {
    log.print(
        fmt::format("train data: {} pairs truncated, {} dropped as too long (data.max_length "
                    "{}, data.truncation {})",
                    encode_counts.truncated, encode_counts.dropped, config.data.max_length,
                    config.data.truncation));
  }
  if (skipped_records > 0) {
    log.print(
        fmt::format("train data: {} bad records skipped while training (data.on_bad_record: "
                    "skip)",
                    skipped_records));
  }
  result.steps = state.step;
  if (main && evaluates && last_eval_step != state.step) evaluate(state.step);
  if (main) result.final_eval = last_eval;
  return result;
}

}  // namespace omnirm::train
