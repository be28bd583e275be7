// Implementation of train/trainer.h.
#include "omnirm/train/trainer.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/optim/adamw.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "omnirm/core/error.h"
#include "omnirm/dist/communicator.h"
#include "omnirm/dist/grad_sync.h"
#include "omnirm/dist/rank_log.h"
#include "omnirm/dist/world.h"
#include "omnirm/dist/zero.h"
#include "omnirm/io/atomic_dir.h"
#include "omnirm/train/batching.h"
#include "omnirm/train/checkpoint.h"
#include "omnirm/train/dataset.h"
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
  const std::vector<double> sums = comm.all_reduce_sum(
      {stats.loss, double(stats.correct), double(stats.data_tokens), double(stats.backbone_tokens)},
      "the all-reduce of the step metrics");
  stats.loss = sums[0] / double(comm.size());
  stats.correct = std::llround(sums[1]);
  stats.data_tokens = std::llround(sums[2]);
  stats.backbone_tokens = std::llround(sums[3]);
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

nlohmann::json eval_record(int64_t step, const EvalMetrics& m) {
  nlohmann::json record = {{"step", step},
                           {"eval/pairs", m.pairs},
                           {"eval/loss", m.loss},
                           {"eval/accuracy", m.accuracy},
                           {"eval/margin", m.margin},
                           {"eval/reward_chosen", m.chosen_mean},
                           {"eval/reward_rejected", m.rejected_mean},
                           {"eval/reward_std", m.reward_std}};
  for (const auto& [task, acc] : m.by_task) record["eval/accuracy/task/" + task] = acc.value();
  for (const auto& [tag, acc] : m.by_tag) record["eval/accuracy/tag/" + tag] = acc.value();
  return record;
}

// Where the data stands: the epoch, its visiting order and the next unread index.
struct DataCursor {
  int64_t epoch = 0;
  int64_t offset = 0;
  std::vector<int64_t> order;
};

}  // namespace

int64_t model_vocab_size(const ModelConfig& config, const text::Tokenizer& tokenizer) {
  if (config.vocab_size == 0) return tokenizer.vocab_size();
  if (config.vocab_size < tokenizer.vocab_size()) {
    throw UserError(fmt::format("model.vocab_size: {} is smaller than the tokenizer's {} pieces",
                                config.vocab_size, tokenizer.vocab_size()));
  }
  return config.vocab_size;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(model::RewardModelImpl& model,
                                                        const TrainConfig& config) {
  return make_optimizer(model.parameters(), config);
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

TrainResult run_training(const Config& config, const TrainOptions& options) {
  namespace fs = std::filesystem;
  const TrainConfig& tc = config.train;
  if (tc.threads > 0) at::set_num_threads(static_cast<int>(tc.threads));
  if (config.data.train.empty()) throw UserError("data.train: no training file given");
  if (config.data.tokenizer.empty()) {
    throw UserError("data.tokenizer: no tokenizer given; make one with `omnirm tokenizer train`");
  }
  const dist::World world = dist::world_from_environment();
  check_batch_split(tc, world.size);
  const at::Device device(at::kCPU);
  std::unique_ptr<dist::Communicator> comm;
  if (world.distributed()) comm = std::make_unique<dist::Communicator>(world, config.dist, device);
  const dist::RankLog log = world.distributed()
                                ? dist::RankLog(world.rank, world.size, config.dist.verbose)
                                : dist::RankLog();
  const bool main = world.is_main();

  const text::Tokenizer tokenizer = text::Tokenizer::load(config.data.tokenizer);
  const EncodedDataset train_set =
      load_encoded_dataset(config.data.train, tokenizer, config.data, /*keep_ties=*/false);
  std::optional<EncodedDataset> eval_set;
  if (!config.data.eval.empty()) {
    eval_set = load_encoded_dataset(config.data.eval, tokenizer, config.data, /*keep_ties=*/true);
  }
  log.print(fmt::format("train data: {}: {}", config.data.train, train_set.summary_line()));
  if (eval_set) {
    log.print(fmt::format("eval data:  {}: {}", config.data.eval, eval_set->summary_line()));
  }

  const int64_t steps_per_epoch = train_set.size() / tc.global_batch_pairs;
  if (steps_per_epoch == 0) {
    throw UserError(fmt::format("{}: {} usable pairs, fewer than train.global_batch_pairs = {}",
                                config.data.train, train_set.size(), tc.global_batch_pairs));
  }
  const int64_t total_steps = tc.max_steps > 0 ? tc.max_steps : tc.epochs * steps_per_epoch;

  at::manual_seed(static_cast<uint64_t>(tc.seed));
  model::RewardModel model(config.model, model_vocab_size(config.model, tokenizer));
  model::initialize_weights(*model);
  model->to(device);
  model->train();
  const bool zero = comm != nullptr && config.dist.zero_stage == 1;
  std::unique_ptr<dist::ParameterShards> shards;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  if (zero) {
    shards = std::make_unique<dist::ParameterShards>(*comm, model->parameters());
    optimizer = make_optimizer(shards->owned(), tc);
  } else {
    optimizer = make_optimizer(*model, tc);
  }
  const CheckpointRanks ranks{comm.get(), zero};

  TrainerState state{0, total_steps, 0, 0, train_set.size(), tc.seed, world.size, zero ? 1 : 0};
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
    if (saved.dataset_size != train_set.size() || saved.seed != tc.seed) {
      throw UserError(fmt::format(
          "{}: checkpoint was made with {} training pairs and seed {}, this run has {} and {}; "
          "resume with the same data and train.seed",
          *resume_from, saved.dataset_size, saved.seed, train_set.size(), tc.seed));
    }
    state = saved;
    state.total_steps = total_steps;
    log.print(fmt::format("resumed from {} at step {}", *resume_from, state.step));
  }
  // After any resume, so that every rank starts from rank 0's weights.
  std::unique_ptr<dist::GradSync> grad_sync;
  if (comm) {
    grad_sync = std::make_unique<dist::GradSync>(*comm, model->parameters(), config.dist.bucket_mb);
    log.print(fmt::format("data parallel: {} ranks over {}, dist.zero_stage {}", world.size,
                          comm->backend(), zero ? 1 : 0));
  }
  const DataParallelStep parallel{world.rank, world.size, grad_sync.get(), shards.get()};

  std::optional<MetricsLog> metrics;
  if (main) {
    fs::create_directories(tc.output_dir);
    io::write_file_atomic((fs::path(tc.output_dir) / "config.yaml").string(), dump_config(config));
    metrics.emplace((fs::path(tc.output_dir) / "metrics.jsonl").string());
  }
  ProgressLine progress(total_steps, state.step, tc.log_every, log.prefix());
  DataCursor cursor{
      state.epoch, state.offset,
      epoch_order(train_set.size(), uint64_t(tc.seed), state.epoch, config.data.shuffle)};

  auto evaluate = [&](int64_t step) {
    EvalMetrics m = summarize_scores(score_dataset(*model, *eval_set, config.eval.batch_pairs,
                                                   config.model.prefix_sharing, device));
    metrics->write(eval_record(step, m));
    return m;
  };

  TrainResult result;
  result.main_process = main;
  const int64_t first_step = state.step;
  while (state.step < total_steps) {
    const auto step_start = std::chrono::steady_clock::now();
    const double lr = learning_rate_at(state.step, total_steps, tc);
    const auto first = cursor.order.begin() + cursor.offset;
    const std::vector<int64_t> indices(first, first + tc.global_batch_pairs);
    StepStats stats =
        optimizer_step(*model, *optimizer, train_set, indices, config, lr, device, parallel);
    if (comm) stats = all_reduce_stats(*comm, stats);
    ++state.step;
    cursor.offset += tc.global_batch_pairs;
    if (cursor.offset + tc.global_batch_pairs > train_set.size()) {
      ++cursor.epoch;
      cursor.offset = 0;
      cursor.order =
          epoch_order(train_set.size(), uint64_t(tc.seed), cursor.epoch, config.data.shuffle);
    }
    state.epoch = cursor.epoch;
    state.offset = cursor.offset;

    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - step_start).count();
    const double accuracy = double(stats.correct) / double(tc.global_batch_pairs);
    const double tokens_per_second = double(stats.data_tokens) / seconds;
    if (comm && state.step == first_step + 1) {
      const std::string line = optimizer_state_line(*comm, *optimizer, state.zero_stage);
      progress.interrupt();
      log.print(line);
    }
    if (log.enabled()) progress.update(state.step, stats.loss, accuracy, tokens_per_second);
    if (main && (state.step % tc.log_every == 0 || state.step == total_steps)) {
      metrics->write({{"step", state.step},
                      {"epoch", cursor.epoch},
                      {"loss", stats.loss},
                      {"accuracy", accuracy},
                      {"lr", lr},
                      {"grad_norm", stats.grad_norm},
                      {"pairs_per_s", double(tc.global_batch_pairs) / seconds},
                      {"tokens_per_s", tokens_per_second}});
    }
    const bool last = state.step == total_steps;
    if (main && eval_set && tc.eval_every > 0 && state.step % tc.eval_every == 0 && !last) {
      const EvalMetrics m = evaluate(state.step);
      progress.interrupt();
      log.print(fmt::format("eval @ step {}: loss {:.4f} accuracy {:.4f}", state.step, m.loss,
                            m.accuracy));
    }
    if ((tc.save_every > 0 && state.step % tc.save_every == 0) || last) {
      save_checkpoint(tc.output_dir, *model, *optimizer, state, config, config.data.tokenizer,
                      ranks);
      if (main) prune_checkpoints(tc.output_dir, tc.keep_last);
    }
    maybe_fail_after_step(state.step, world.rank);
  }
  progress.interrupt();
  result.steps = state.step;
  if (main && eval_set) result.final_eval = evaluate(state.step);
  return result;
}

}  // namespace omnirm::train
