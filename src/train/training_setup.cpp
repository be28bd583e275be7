// setup_training (train/training_run.h): everything a run needs before its first step, in the
// order that lets every refusal come before anything is written: config and world checks,
// data, model, the memory plan against the budget, the resumed checkpoint, and only then the
// run directory's config.yaml and metrics.jsonl.
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>

#include "omnirm/core/error.h"
#include "omnirm/io/atomic_dir.h"
#include "omnirm/model/cudnn_tuning.h"
#include "omnirm/model/lora.h"
#include "omnirm/train/best_checkpoint.h"
#include "omnirm/train/init_from.h"
#include "omnirm/train/memory_meter.h"
#include "omnirm/train/plan.h"
#include "omnirm/train/training_run.h"

namespace omnirm::train {

namespace {

namespace fs = std::filesystem;

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

// The combinations of settings and world that the data-parallel paths cannot serve.
void check_parallel_settings(const Config& config, const dist::World& world) {
  check_batch_split(config.train, world.size);
  if (config.dist.zero_stage >= 2 && world.distributed() && config.data.micro_batch_tokens > 0) {
    throw UserError(fmt::format(
        "data.micro_batch_tokens: token-budget micro-batches give the ranks different numbers "
        "of micro-steps, and dist.zero_stage {} reduce-scatters on every micro-step; use "
        "train.micro_batch_pairs (data.micro_batch_tokens: 0) or dist.zero_stage 0 or 1",
        config.dist.zero_stage));
  }
}

// Refuses, before the first step, a run the memory plan says does not fit
// train.memory_budget_mb.
void check_memory_budget(TrainingRun& run) {
  const double budget_mb = run.config.train.memory_budget_mb;
  if (budget_mb <= 0.0) return;
  const ParameterCounts counts = count_parameters(*run.model);
  const int64_t tokens = run.config.train.micro_batch_pairs * run.config.data.max_length;
  const MemoryPlan plan = plan_memory(run.config, counts, run.world.size, tokens);
  const StagePlan& mine = plan.stage(run.config.dist.zero_stage);
  const double budget = budget_mb * 1024.0 * 1024.0;
  if (mine.bytes.total() > budget) {
    const StagePlan* fitting = plan.smallest_fitting(budget);
    throw UserError(fmt::format(
        "train.memory_budget_mb: {:.0f} MiB per rank, but the plan for dist.zero_stage {} on {} "
        "rank(s) needs {} ({}); {}",
        budget_mb, mine.stage, run.world.size, format_mib(mine.bytes.total()),
        category_line(mine.bytes),
        fitting != nullptr
            ? fmt::format("stage {} needs {}: set dist.zero_stage: {}", fitting->stage,
                          format_mib(fitting->bytes.total()), fitting->stage)
            : "no stage fits: add ranks, lower train.micro_batch_pairs or data.max_length"));
  }
}

void build_model(TrainingRun& run) {
  const Config& config = run.config;
  const TrainConfig& tc = config.train;
  at::manual_seed(static_cast<uint64_t>(tc.seed));
  run.model = model::RewardModel(config.model, model_vocab_size(config.model, *run.tokenizer));
  model::initialize_weights(*run.model);
  if (!tc.init_from.empty()) {
    const std::string loaded = load_initial_weights(*run.model, tc.init_from);
    run.log.print("initialised from " + tc.init_from + ": " + loaded);
  }
  if (config.lora.rank > 0) {
    const int64_t adapted = model::apply_lora(*run.model, config.lora);
    int64_t trainable = 0, total = 0;
    for (const at::Tensor& p : run.model->parameters()) {
      total += p.numel();
      if (p.requires_grad()) trainable += p.numel();
    }
    run.log.print(fmt::format(
        "LoRA: rank {} on {} projections; {} of {} parameters train ({:.2f}%)", config.lora.rank,
        adapted, trainable, total, 100.0 * double(trainable) / double(total)));
  }
  apply_param_dtype(*run.model, tc.param_dtype);
  run.model->to(run.device);
  run.model->train();
  run.model->set_activation_checkpointing(tc.activation_checkpointing);
}

// The replicated path's optimizer (ZeRO-1 shards it by parameter owner), or the sharded
// optimizer's over its master pieces.
void build_optimizer(TrainingRun& run) {
  const Config& config = run.config;
  if (uses_zero_engine(config)) {
    run.zero = std::make_unique<ZeroTraining>(*run.model, config, run.comm.get());
    run.optimizer = run.zero->make_optimizer(config.train);
    return;
  }
  if (run.comm != nullptr && config.dist.zero_stage == 1) {
    run.shards =
        std::make_unique<dist::ParameterShards>(*run.comm, trainable_parameters(*run.model));
    run.optimizer = make_optimizer(run.shards->owned(), config.train);
  } else {
    run.optimizer = make_optimizer(*run.model, config.train);
  }
}

std::optional<std::string> checkpoint_to_resume(const TrainConfig& tc,
                                                const TrainOptions& options) {
  if (options.resume == "auto") return latest_checkpoint(tc.output_dir);
  if (!options.resume.empty()) return options.resume;
  if (latest_checkpoint(tc.output_dir)) {
    throw UserError(tc.output_dir +
                    " already holds checkpoints; pass --resume auto to continue "
                    "that run, or choose another train.output_dir");
  }
  return std::nullopt;
}

// The resumed step's RNG, data position, optimizer state and loss scale; best/ caught up.
void finish_resume(TrainingRun& run, const TrainerState& saved) {
  const std::string& dir = *run.resumed_from;
  const TrainConfig& tc = run.config.train;
  load_checkpoint_optimizer(dir, saved, *run.model, *run.optimizer, run.checkpoint_ranks());
  load_checkpoint_rng(dir, saved, run.checkpoint_ranks());
  const std::string origin = (fs::path(dir) / "trainer_state.json").string();
  run.loader->seek(data::LoaderPosition::from_json(saved.data_position, origin));
  const int64_t total_steps = run.state.total_steps;
  const TrainerState fresh = run.state;
  run.state = saved;
  run.state.total_steps = total_steps;
  run.state.world_size = fresh.world_size;
  run.state.zero_stage = fresh.zero_stage;
  run.state.param_dtype = fresh.param_dtype;
  if (run.loss_scaler->enabled() && saved.loss_scale > 0.0) {
    run.loss_scaler->restore(saved.loss_scale, saved.skipped_steps);
  }
  std::string changed;
  if (saved.world_size != fresh.world_size || saved.zero_stage != fresh.zero_stage ||
      saved.param_dtype != fresh.param_dtype) {
    changed = fmt::format(
        " (re-sharded: {} rank(s) at dist.zero_stage {} with {} parameters "
        "before, {} at stage {} with {} now)",
        saved.world_size, saved.zero_stage, saved.param_dtype, fresh.world_size, fresh.zero_stage,
        fresh.param_dtype);
  }
  run.log.print(fmt::format("resumed from {} at step {}{}", dir, run.state.step, changed));
  // A kill between a step's checkpoint and its best/ leaves best/ behind: catch up.
  const std::optional<BestRecord> best = read_best_record(tc.output_dir);
  const std::string best_step_dir = checkpoint_path(tc.output_dir, run.state.best_step);
  if (run.main && run.state.best_step > 0 && (!best || best->step != run.state.best_step) &&
      fs::exists(best_step_dir)) {
    publish_best_from_checkpoint(
        tc.output_dir, best_step_dir,
        {run.state.best_step, run.state.best_metric, run.state.best_value});
  }
}

}  // namespace

CheckpointRanks TrainingRun::checkpoint_ranks() const {
  return CheckpointRanks{comm.get(), shards != nullptr, engine()};
}

DataParallelStep TrainingRun::parallel_step() const {
  return DataParallelStep{world.rank, world.size, grad_sync.get(), shards.get(), engine()};
}

std::unique_ptr<TrainingRun> setup_training(const Config& requested, const TrainOptions& options) {
  auto run = std::make_unique<TrainingRun>();
  // With train.init_from the model's shape (and by default the tokenizer) come from there.
  run->config = resolve_init_from(requested);
  const Config& config = run->config;
  const TrainConfig& tc = config.train;
  if (tc.threads > 0) at::set_num_threads(static_cast<int>(tc.threads));
  if (config.data.train.empty() && config.data.mix.empty()) {
    throw UserError("data.train: no training file given (set data.train or data.mix)");
  }
  if (config.data.tokenizer.empty()) {
    throw UserError("data.tokenizer: no tokenizer given; make one with `omnirm tokenizer train`");
  }
  if (tc.memory_budget_mb > 0.0) CpuMemoryMeter::instance();  // counts from here on
  run->world = dist::world_from_environment();
  check_parallel_settings(config, run->world);
  run->device = training_device(tc.device, run->world.local_rank);
  if (run->world.distributed()) {
    run->comm = std::make_unique<dist::Communicator>(run->world, config.dist, run->device);
    run->log = dist::RankLog(run->world.rank, run->world.size, config.dist.verbose);
  }
  run->main = run->world.is_main();
  if (run->device.is_cuda()) run->log.print("device: " + run->device.str());
  if (model::use_cudnn_autotuning(config.model, run->device)) {
    run->log.print("cuDNN benchmark mode: on (the towers' convolution stems see fixed shapes)");
  }

  run->tokenizer = std::make_unique<text::Tokenizer>(text::Tokenizer::load(config.data.tokenizer));
  run->media = make_media_setup(config, *run->tokenizer);
  data::LoaderOptions loader_options =
      data::loader_options_from_config(config, run->world.rank, run->world.size);
  loader_options.media_layout = run->media.layout;
  loader_options.minicpmo_layout = run->media.minicpmo;
  loader_options.media_hook = run->media.hook;
  run->loader = std::make_unique<data::Loader>(*run->tokenizer, std::move(loader_options));
  for (const data::DatasetIndexSummary& summary : run->loader->index_summary()) {
    run->log.print(index_line(summary));
  }
  if (!config.data.eval.empty()) {
    run->eval_set = load_encoded_dataset(config.data.eval, *run->tokenizer, config,
                                         /*keep_ties=*/true, infer::DatasetUse::scoring);
    run->log.print(
        fmt::format("eval data:  {}: {}", config.data.eval, run->eval_set->summary_line()));
  }
  if (run->main && !tc.eval_benchmark.empty()) {
    run->benchmark = infer::load_benchmark(
        data::parse_benchmark_format(tc.eval_benchmark_format, "train.eval_benchmark_format"),
        tc.eval_benchmark, *run->tokenizer, config);
    run->log.print(fmt::format("eval benchmark: {} {}: {}", run->benchmark->name(),
                               tc.eval_benchmark, run->benchmark->summary_line()));
  }
  if (tc.best_metric.starts_with("bench/") && tc.eval_benchmark.empty()) {
    throw UserError("train.best_metric: '" + tc.best_metric +
                    "' needs a benchmark; set train.eval_benchmark or pick an eval/ metric");
  }
  const int64_t steps_per_epoch = run->loader->steps_per_epoch();
  if (steps_per_epoch == 0) {
    throw UserError("the training data has no usable pairs; check data.train / data.mix");
  }
  run->total_steps = tc.max_steps > 0 ? tc.max_steps : tc.epochs * steps_per_epoch;

  build_model(*run);
  check_memory_budget(*run);
  // fp16 scales the loss dynamically; fp32 and bf16 need no scaling.
  run->loss_scaler = std::make_unique<LossScaler>(tc.precision == "fp16");

  run->state.total_steps = run->total_steps;
  run->state.data_position = run->loader->position().to_json();
  run->state.seed = tc.seed;
  run->state.world_size = run->world.size;
  run->state.zero_stage = config.dist.zero_stage;
  run->state.param_dtype = tc.param_dtype;
  run->resumed_from = checkpoint_to_resume(tc, options);
  std::optional<TrainerState> saved;
  if (run->resumed_from) {
    saved = read_checkpoint_state(*run->resumed_from);
    if (saved->seed != tc.seed) {
      throw UserError(fmt::format(
          "{}: checkpoint was made with train.seed {}, this run has {}; resume with the same "
          "train.seed",
          *run->resumed_from, saved->seed, tc.seed));
    }
    check_checkpoint_layout(*run->resumed_from, *saved, *run->model);
    // Before the sharded optimizer takes the parameters over.
    load_checkpoint_weights(*run->resumed_from, *run->model);
  }
  build_optimizer(*run);
  if (saved) finish_resume(*run, *saved);
  // After any resume, so that every rank starts from rank 0's weights (the sharded optimizer
  // synchronised its own when it was built).
  if (run->comm != nullptr && !run->zero) {
    run->grad_sync = std::make_unique<dist::GradSync>(*run->comm, trainable_parameters(*run->model),
                                                      config.dist.bucket_mb);
  }
  if (run->comm != nullptr) {
    run->log.print(fmt::format("data parallel: {} ranks over {}, dist.zero_stage {}",
                               run->world.size, run->comm->backend(), config.dist.zero_stage));
  }
  if (run->main) {
    fs::create_directories(tc.output_dir);
    io::write_file_atomic((fs::path(tc.output_dir) / "config.yaml").string(), dump_config(config));
    run->metrics.emplace((fs::path(tc.output_dir) / "metrics.jsonl").string(),
                         tc.tensorboard ? (fs::path(tc.output_dir) / "tb").string() : "");
    if (run->resumed_from) run->metrics->mark_resume(run->state.step + 1);
  }
  // From the first step on, the CPU allocator holds no more than the budget, as a device with
  // that much memory would (the model is built whole first, as on the host of a GPU run).
  if (tc.memory_budget_mb > 0.0 && run->device.is_cpu()) {
    CpuMemoryMeter::instance().set_limit(
        static_cast<int64_t>(tc.memory_budget_mb * 1024.0 * 1024.0));
  }
  return run;
}

}  // namespace omnirm::train
