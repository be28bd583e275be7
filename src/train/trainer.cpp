// Implementation of train/trainer.h.
#include "omnirm/train/trainer.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/optim/adamw.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>

#include "omnirm/core/error.h"
#include "omnirm/io/atomic_dir.h"
#include "omnirm/train/batching.h"
#include "omnirm/train/checkpoint.h"
#include "omnirm/train/dataset.h"
#include "omnirm/train/progress.h"
#include "omnirm/train/schedule.h"
#include "omnirm/train/step.h"

namespace omnirm::train {

namespace {

// Fault injection for the crash-safety tests: OMNIRM_FAULT_KILL_AT_STEP=<step> sends SIGKILL
// to this process right after that optimizer step (and its checkpoint, if one is due).
void maybe_die_after_step(int64_t step) {
  const char* value = std::getenv("OMNIRM_FAULT_KILL_AT_STEP");
  if (value != nullptr && std::atoll(value) == step) std::raise(SIGKILL);
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
  std::vector<at::Tensor> decay, no_decay;
  for (auto& p : model.parameters()) (p.dim() >= 2 ? decay : no_decay).push_back(p);
  auto options = [&](double weight_decay) {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(config.lr)
            .betas({config.adam_beta1, config.adam_beta2})
            .eps(config.adam_eps)
            .weight_decay(weight_decay));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, options(config.weight_decay));
  groups.emplace_back(no_decay, options(0.0));
  return std::make_unique<torch::optim::AdamW>(std::move(groups),
                                               torch::optim::AdamWOptions(config.lr));
}

TrainResult run_training(const Config& config, const TrainOptions& options) {
  namespace fs = std::filesystem;
  const TrainConfig& tc = config.train;
  if (tc.threads > 0) at::set_num_threads(static_cast<int>(tc.threads));
  if (config.data.train.empty()) throw UserError("data.train: no training file given");
  if (config.data.tokenizer.empty()) {
    throw UserError("data.tokenizer: no tokenizer given; make one with `omnirm tokenizer train`");
  }
  const at::Device device(at::kCPU);
  const text::Tokenizer tokenizer = text::Tokenizer::load(config.data.tokenizer);
  const EncodedDataset train_set =
      load_encoded_dataset(config.data.train, tokenizer, config.data, /*keep_ties=*/false);
  std::optional<EncodedDataset> eval_set;
  if (!config.data.eval.empty()) {
    eval_set = load_encoded_dataset(config.data.eval, tokenizer, config.data, /*keep_ties=*/true);
  }
  fmt::print(stderr, "train data: {}: {}\n", config.data.train, train_set.summary_line());
  if (eval_set)
    fmt::print(stderr, "eval data:  {}: {}\n", config.data.eval, eval_set->summary_line());

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
  auto optimizer = make_optimizer(*model, tc);

  TrainerState state{0, total_steps, 0, 0, train_set.size(), tc.seed};
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
    const TrainerState saved = load_checkpoint(*resume_from, *model, *optimizer);
    if (saved.dataset_size != train_set.size() || saved.seed != tc.seed) {
      throw UserError(fmt::format(
          "{}: checkpoint was made with {} training pairs and seed {}, this run has {} and {}; "
          "resume with the same data and train.seed",
          *resume_from, saved.dataset_size, saved.seed, train_set.size(), tc.seed));
    }
    state = saved;
    state.total_steps = total_steps;
    fmt::print(stderr, "resumed from {} at step {}\n", *resume_from, state.step);
  }
  fs::create_directories(tc.output_dir);
  io::write_file_atomic((fs::path(tc.output_dir) / "config.yaml").string(), dump_config(config));

  MetricsLog metrics((fs::path(tc.output_dir) / "metrics.jsonl").string());
  ProgressLine progress(total_steps, state.step, tc.log_every);
  DataCursor cursor{
      state.epoch, state.offset,
      epoch_order(train_set.size(), uint64_t(tc.seed), state.epoch, config.data.shuffle)};

  auto evaluate = [&](int64_t step) {
    EvalMetrics m = summarize_scores(score_dataset(*model, *eval_set, config.eval.batch_pairs,
                                                   config.model.prefix_sharing, device));
    metrics.write(eval_record(step, m));
    return m;
  };

  TrainResult result;
  while (state.step < total_steps) {
    const auto step_start = std::chrono::steady_clock::now();
    const double lr = learning_rate_at(state.step, total_steps, tc);
    const auto first = cursor.order.begin() + cursor.offset;
    const std::vector<int64_t> indices(first, first + tc.global_batch_pairs);
    const StepStats stats =
        optimizer_step(*model, *optimizer, train_set, indices, config, lr, device);
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
    progress.update(state.step, stats.loss, accuracy, tokens_per_second);
    if (state.step % tc.log_every == 0 || state.step == total_steps) {
      metrics.write({{"step", state.step},
                     {"epoch", cursor.epoch},
                     {"loss", stats.loss},
                     {"accuracy", accuracy},
                     {"lr", lr},
                     {"grad_norm", stats.grad_norm},
                     {"pairs_per_s", double(tc.global_batch_pairs) / seconds},
                     {"tokens_per_s", tokens_per_second}});
    }
    const bool last = state.step == total_steps;
    if (eval_set && tc.eval_every > 0 && state.step % tc.eval_every == 0 && !last) {
      const EvalMetrics m = evaluate(state.step);
      progress.interrupt();
      fmt::print(stderr, "eval @ step {}: loss {:.4f} accuracy {:.4f}\n", state.step, m.loss,
                 m.accuracy);
    }
    if ((tc.save_every > 0 && state.step % tc.save_every == 0) || last) {
      save_checkpoint(tc.output_dir, *model, *optimizer, state, config, config.data.tokenizer);
      prune_checkpoints(tc.output_dir, tc.keep_last);
    }
    maybe_die_after_step(state.step);
  }
  progress.interrupt();
  result.steps = state.step;
  if (eval_set) result.final_eval = evaluate(state.step);
  return result;
}

}  // namespace omnirm::train
