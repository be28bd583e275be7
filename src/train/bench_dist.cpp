// Implementation of train/bench_dist.h. Every timed region on the ranks starts after a
// barrier, so all ranks start it together. Each figure is the fastest repetition (the least
// disturbed by other work on the machine), taken from the slowest rank.
#include "omnirm/train/bench_dist.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

#include "omnirm/core/error.h"
#include "omnirm/dist/communicator.h"
#include "omnirm/dist/grad_sync.h"
#include "omnirm/dist/world.h"
#include "omnirm/dist/zero.h"
#include "omnirm/train/batching.h"
#include "omnirm/train/dataset.h"
#include "omnirm/train/step.h"
#include "omnirm/train/trainer.h"

namespace omnirm::train {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double fastest(const std::vector<double>& values) {
  return values.empty() ? 0.0 : *std::min_element(values.begin(), values.end());
}

// What every measurement needs: the data, a freshly initialized model and its optimizer.
struct Setup {
  EncodedDataset dataset;
  model::RewardModel model{nullptr};
  std::vector<int64_t> order;
};

Setup make_setup(const Config& config) {
  if (config.data.tokenizer.empty() || config.data.train.empty()) {
    throw UserError("bench dist: the config needs data.train and data.tokenizer");
  }
  const text::Tokenizer tokenizer = text::Tokenizer::load(config.data.tokenizer);
  Setup setup;
  setup.dataset = load_encoded_dataset(config.data.train, tokenizer, config, /*keep_ties=*/false);
  if (setup.dataset.size() < config.train.global_batch_pairs) {
    throw UserError(fmt::format("{}: {} pairs, fewer than one global batch of {}",
                                config.data.train, setup.dataset.size(),
                                config.train.global_batch_pairs));
  }
  at::manual_seed(static_cast<uint64_t>(config.train.seed));
  setup.model = model::RewardModel(config.model, model_vocab_size(config.model, tokenizer));
  model::initialize_weights(*setup.model);
  setup.model->train();
  setup.order = epoch_order(setup.dataset.size(), uint64_t(config.train.seed), 0, true);
  return setup;
}

// The global batch of step `step`, cycling through the order.
std::vector<int64_t> batch_at(const Setup& setup, int64_t batch, int64_t step) {
  const int64_t start = (step * batch) % (setup.dataset.size() - batch + 1);
  return {setup.order.begin() + start, setup.order.begin() + start + batch};
}

// The loss of one micro-batch, ready for backward.
at::Tensor micro_loss(model::RewardModelImpl& model, const model::ModelInputs& inputs,
                      const Config& config) {
  return model.loss(inputs, config.train.centering).loss;
}

double slowest(dist::Communicator& comm, double value, std::string_view what) {
  const std::vector<double> all = comm.all_gather(value, what);
  return *std::max_element(all.begin(), all.end());
}

}  // namespace

double OverlapTiming::hidden_fraction() const {
  if (all_reduce <= 0.0) return 0.0;
  return std::clamp((backward + all_reduce - backward_sync) / all_reduce, 0.0, 1.0);
}

StepTiming bench_single_rank(const Config& config, int64_t steps, int64_t warmup) {
  Setup setup = make_setup(config);
  auto optimizer = make_optimizer(*setup.model, config.train);
  const at::Device device(at::kCPU);
  std::vector<double> times;
  for (int64_t step = 0; step < warmup + steps; ++step) {
    const auto indices = batch_at(setup, config.train.global_batch_pairs, step);
    const auto start = Clock::now();
    optimizer_step(*setup.model, *optimizer, setup.dataset, indices, config, config.train.lr,
                   device);
    if (step >= warmup) times.push_back(seconds_since(start));
  }
  return StepTiming{1, at::get_num_threads(), fastest(times)};
}

BenchDistResult bench_parallel_ranks(const Config& config, int64_t steps, int64_t warmup) {
  const dist::World world = dist::world_from_environment();
  if (!world.distributed()) {
    throw UserError("bench dist: no data-parallel group (WORLD_SIZE unset or 1)");
  }
  check_batch_split(config.train, world.size);
  const at::Device device(at::kCPU);
  dist::Communicator comm(world, config.dist, device);
  Setup setup = make_setup(config);
  model::RewardModelImpl& model = *setup.model;
  std::unique_ptr<dist::ParameterShards> shards;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  if (config.dist.zero_stage == 1) {
    shards = std::make_unique<dist::ParameterShards>(comm, trainable_parameters(model));
    optimizer = make_optimizer(shards->owned(), config.train);
  } else {
    optimizer = make_optimizer(model, config.train);
  }
  dist::GradSync grad_sync(comm, trainable_parameters(model), config.dist.bucket_mb);
  const DataParallelStep parallel{world.rank, world.size, &grad_sync, shards.get()};

  std::vector<double> step_times;
  for (int64_t step = 0; step < warmup + steps; ++step) {
    const auto indices = batch_at(setup, config.train.global_batch_pairs, step);
    comm.barrier("bench: aligning the ranks");
    const auto start = Clock::now();
    optimizer_step(model, *optimizer, setup.dataset, indices, config, config.train.lr, device,
                   parallel);
    if (step >= warmup) step_times.push_back(seconds_since(start));
  }

  // One micro-batch of this rank's share, its backward timed with and without the all-reduce.
  const int64_t micro = config.train.micro_batch_pairs;
  const auto global = batch_at(setup, config.train.global_batch_pairs, 0);
  const std::vector<int64_t> mine(global.begin() + world.rank * micro,
                                  global.begin() + (world.rank + 1) * micro);
  const model::ModelInputs inputs = make_model_inputs(
      batch_of(setup.dataset, mine, config.model.prefix_sharing, config.train.margin_scale),
      device);
  std::vector<at::Tensor> buffers;
  int64_t gradient_bytes = 0;
  for (int64_t numel : grad_sync.bucket_numels()) {
    buffers.push_back(at::zeros({numel}, at::kFloat));
    gradient_bytes += numel * int64_t(sizeof(float));
  }
  std::vector<double> backward, backward_sync, all_reduce;
  for (int64_t rep = 0; rep < warmup + steps; ++rep) {
    for (const bool sync : {false, true}) {
      model.zero_grad();
      grad_sync.before_forward(sync);
      const at::Tensor loss = micro_loss(model, inputs, config);
      comm.barrier("bench: aligning the ranks");
      const auto start = Clock::now();
      grad_sync.backward(loss, sync);
      if (rep >= warmup) (sync ? backward_sync : backward).push_back(seconds_since(start));
    }
    comm.barrier("bench: aligning the ranks");
    const auto start = Clock::now();
    comm.all_reduce_tensors(buffers, "bench: the all-reduce of gradient-sized buckets");
    if (rep >= warmup) all_reduce.push_back(seconds_since(start));
  }

  BenchDistResult result;
  result.backend = comm.backend();
  result.global_batch_pairs = config.train.global_batch_pairs;
  result.micro_batch_pairs = micro;
  result.steps = steps;
  result.parallel = StepTiming{world.size, at::get_num_threads(),
                               slowest(comm, fastest(step_times), "bench: gathering step times")};
  result.overlap.backward = slowest(comm, fastest(backward), "bench: gathering backward times");
  result.overlap.backward_sync =
      slowest(comm, fastest(backward_sync), "bench: gathering backward times");
  result.overlap.all_reduce =
      slowest(comm, fastest(all_reduce), "bench: gathering all-reduce times");
  result.overlap.buckets = static_cast<int64_t>(buffers.size());
  result.overlap.gradient_bytes = gradient_bytes;
  return result;
}

nlohmann::json to_json(const BenchDistResult& r) {
  auto timing = [](const StepTiming& t) {
    return nlohmann::json{{"ranks", t.ranks},
                          {"threads_per_rank", t.threads_per_rank},
                          {"step_seconds", t.step_seconds}};
  };
  return {{"backend", r.backend},
          {"global_batch_pairs", r.global_batch_pairs},
          {"micro_batch_pairs", r.micro_batch_pairs},
          {"steps", r.steps},
          {"single", timing(r.single)},
          {"parallel", timing(r.parallel)},
          {"overlap",
           {{"backward", r.overlap.backward},
            {"all_reduce", r.overlap.all_reduce},
            {"backward_sync", r.overlap.backward_sync},
            {"buckets", r.overlap.buckets},
            {"gradient_bytes", r.overlap.gradient_bytes}}}};
}

BenchDistResult bench_dist_from_json(const nlohmann::json& json) {
  auto timing = [](const nlohmann::json& j) {
    return StepTiming{j.at("ranks").get<int64_t>(), j.at("threads_per_rank").get<int64_t>(),
                      j.at("step_seconds").get<double>()};
  };
  BenchDistResult r;
  r.backend = json.at("backend").get<std::string>();
  r.global_batch_pairs = json.at("global_batch_pairs").get<int64_t>();
  r.micro_batch_pairs = json.at("micro_batch_pairs").get<int64_t>();
  r.steps = json.at("steps").get<int64_t>();
  r.single = timing(json.at("single"));
  r.parallel = timing(json.at("parallel"));
  const nlohmann::json& o = json.at("overlap");
  r.overlap.backward = o.at("backward").get<double>();
  r.overlap.all_reduce = o.at("all_reduce").get<double>();
  r.overlap.backward_sync = o.at("backward_sync").get<double>();
  r.overlap.buckets = o.at("buckets").get<int64_t>();
  r.overlap.gradient_bytes = o.at("gradient_bytes").get<int64_t>();
  return r;
}

std::string format_bench_dist(const BenchDistResult& r) {
  const double pairs = double(r.global_batch_pairs);
  std::string out = fmt::format(
      "bench dist: {} {} ranks x {} thread(s) vs 1 rank x {} thread(s); global batch {} pairs "
      "(micro {}); fastest of {} steps, slowest rank\n",
      r.parallel.ranks, r.backend, r.parallel.threads_per_rank, r.single.threads_per_rank,
      r.global_batch_pairs, r.micro_batch_pairs, r.steps);
  out += fmt::format("{:<10} {:>12} {:>10}\n", "", "step time", "pairs/s");
  out += fmt::format("{:<10} {:>10.4f} s {:>10.1f}\n", "1 rank", r.single.step_seconds,
                     pairs / r.single.step_seconds);
  out += fmt::format("{:<10} {:>10.4f} s {:>10.1f}\n", fmt::format("{} ranks", r.parallel.ranks),
                     r.parallel.step_seconds, pairs / r.parallel.step_seconds);
  out += fmt::format("step-time ratio ({} ranks / 1 rank): {:.3f}  (speedup {:.2f}x)\n",
                     r.parallel.ranks, r.step_time_ratio(), 1.0 / r.step_time_ratio());
  out += fmt::format("gradient all-reduce: {} bucket(s), {:.2f} MB per step\n", r.overlap.buckets,
                     double(r.overlap.gradient_bytes) / 1e6);
  out += fmt::format(
      "backward alone {:.4f} s   all-reduce alone {:.4f} s   backward + overlapped all-reduce "
      "{:.4f} s\n",
      r.overlap.backward, r.overlap.all_reduce, r.overlap.backward_sync);
  out += fmt::format("all-reduce hidden behind backward: {:.1f}%\n",
                     100.0 * r.overlap.hidden_fraction());
  return out;
}

}  // namespace omnirm::train
