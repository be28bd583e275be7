// Implementation of train/bench_memory_ranks.h.
#include "omnirm/train/bench_memory_ranks.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "omnirm/core/error.h"
#include "omnirm/dist/grad_sync.h"
#include "omnirm/dist/world.h"
#include "omnirm/dist/zero.h"
#include "omnirm/dist/zero_engine.h"
#include "omnirm/train/batching.h"
#include "omnirm/train/bench.h"
#include "omnirm/train/memory_meter.h"
#include "omnirm/train/step.h"
#include "omnirm/train/trainer.h"
#include "omnirm/train/zero_training.h"

namespace omnirm::train {

namespace {

using Clock = std::chrono::steady_clock;

int64_t bytes_of(const at::Tensor& t) {
  return t.defined() ? t.numel() * static_cast<int64_t>(t.element_size()) : 0;
}

// The most a forward pass leaves allocated for backward: the allocator's bytes after it less
// those before, less what the sharded optimizer gathered or freed meanwhile (ZeRO-3's blocks).
class ForwardProbe : public StepProbe {
 public:
  explicit ForwardProbe(const dist::ZeroEngine* engine) : engine_(engine) {}
  void forward_begin() override { before_ = held(); }
  void forward_end() override { kept_ = std::max(kept_, held() - before_); }
  int64_t kept() const { return kept_; }

 private:
  int64_t held() const {
    return CpuMemoryMeter::instance().current_bytes() -
           (engine_ != nullptr ? engine_->memory().parameters.now : 0);
  }
  const dist::ZeroEngine* engine_;
  int64_t before_ = 0;
  int64_t kept_ = 0;
};

RankMemory run_stage(const Config& base, int64_t stage, dist::Communicator& comm,
                     const BenchDataset& data, const std::vector<int64_t>& order, int64_t steps) {
  Config config = base;
  config.dist.zero_stage = stage;
  validate_config(config);
  const at::Device device(at::kCPU);
  CpuMemoryMeter& meter = CpuMemoryMeter::instance();
  RankMemory out;
  out.rank = comm.rank();
  out.stage = stage;
  out.sharded_optimizer = uses_zero_engine(config);

  at::manual_seed(static_cast<uint64_t>(config.train.seed));
  model::RewardModel model(config.model, data.vocab_size);
  model::initialize_weights(*model);
  apply_param_dtype(*model, config.train.param_dtype);
  model->train();
  model->set_activation_checkpointing(config.train.activation_checkpointing);
  std::unique_ptr<ZeroTraining> zero;
  std::unique_ptr<dist::ParameterShards> shards;
  std::unique_ptr<dist::GradSync> grad_sync;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  if (out.sharded_optimizer) {
    zero = std::make_unique<ZeroTraining>(*model, config, &comm);
    optimizer = zero->make_optimizer(config.train);
  } else {
    if (stage == 1) {
      shards = std::make_unique<dist::ParameterShards>(comm, trainable_parameters(*model));
      optimizer = make_optimizer(shards->owned(), config.train);
    } else {
      optimizer = make_optimizer(*model, config.train);
    }
    grad_sync =
        std::make_unique<dist::GradSync>(comm, trainable_parameters(*model), config.dist.bucket_mb);
  }
  ForwardProbe probe(zero ? &zero->engine() : nullptr);
  DataParallelStep parallel{
      comm.rank(), comm.size(), grad_sync.get(), shards.get(), zero ? &zero->engine() : nullptr,
      nullptr};
  const int64_t batch = config.train.global_batch_pairs;
  // One warm-up step allocates the optimizer state.
  optimizer_step(*model, *optimizer, data.dataset, bench_batch_indices(order, 0, batch), config,
                 config.train.lr, device, parallel);
  comm.barrier("bench memory: aligning the ranks");
  if (zero) zero->engine().reset_peaks();
  comm.reset_traffic();
  meter.reset_peak();
  parallel.probe = &probe;
  double seconds = 0.0;
  for (int64_t step = 1; step <= steps; ++step) {
    comm.barrier("bench memory: aligning the ranks");
    const auto start = Clock::now();
    optimizer_step(*model, *optimizer, data.dataset, bench_batch_indices(order, step, batch),
                   config, config.train.lr, device, parallel);
    seconds += std::chrono::duration<double>(Clock::now() - start).count();
  }
  out.peak = double(meter.peak_bytes());
  out.step_seconds = seconds / double(steps);
  const dist::CollectiveTraffic& traffic = comm.traffic();
  out.traffic.all_reduce = traffic.all_reduce / steps;
  out.traffic.reduce_scatter = traffic.reduce_scatter / steps;
  out.traffic.all_gather = traffic.all_gather / steps;
  out.traffic.broadcast = traffic.broadcast / steps;
  out.measured.activations = double(probe.kept());
  out.measured.optimizer = double(optimizer_state_bytes(*optimizer));
  if (zero) {
    const dist::ZeroMemory& memory = zero->engine().memory();
    int64_t frozen = 0;
    for (const at::Tensor& p : model->parameters()) {
      if (!p.requires_grad()) frozen += bytes_of(p);
    }
    out.measured.parameters = double(memory.parameters.peak + frozen);
    out.measured.gradients = double(memory.gradients.peak);
    out.measured.master = double(memory.master.peak);
    out.measured.buffers = double(memory.buffers.peak);
  } else {
    for (const at::Tensor& p : model->parameters()) {
      out.measured.parameters += double(bytes_of(p));
      out.measured.gradients += double(bytes_of(p.grad()));
    }
    for (int64_t numel : grad_sync->bucket_numels()) {
      out.measured.buffers += double(numel) * sizeof(float);
    }
  }
  comm.barrier("bench memory: the end of a stage");
  return out;
}

}  // namespace

BenchMemoryRanks bench_memory_rank(const Config& config, int64_t steps) {
  if (steps < 1) throw UserError("bench memory: --steps must be at least 1");
  const dist::World world = dist::world_from_environment();
  if (!world.distributed()) {
    throw UserError("bench memory --nproc: no data-parallel group (WORLD_SIZE unset or 1)");
  }
  check_batch_split(config.train, world.size);
  CpuMemoryMeter::instance();  // counts from here on
  dist::Communicator comm(world, config.dist, at::Device(at::kCPU));
  const BenchDataset data = load_bench_dataset(config);
  const std::vector<int64_t> order =
      epoch_order(data.dataset.size(), uint64_t(config.train.seed), 0, config.data.shuffle);
  BenchMemoryRanks result;
  result.world_size = world.size;
  result.steps = steps;
  result.backend = comm.backend();
  for (int64_t stage = 0; stage <= 3; ++stage) {
    result.ranks.push_back(run_stage(config, stage, comm, data, order, steps));
  }
  if (world.is_main()) {
    // The plan for the longest micro-batch this rank trained on.
    const int64_t micro = config.train.micro_batch_pairs;
    const int64_t batch = config.train.global_batch_pairs;
    for (int64_t step = 0; step <= steps; ++step) {
      const std::vector<int64_t> indices = bench_batch_indices(order, step, batch);
      for (int64_t first = world.rank * micro; first < batch; first += world.size * micro) {
        const std::vector<int64_t> part(indices.begin() + first,
                                        indices.begin() + std::min(batch, first + micro));
        const PackedBatch packed =
            batch_of(data.dataset, part, config.model.prefix_sharing, config.train.margin_scale);
        if (packed.pairs.tokens_in_batch() > result.plan_tokens) {
          result.plan_tokens = packed.pairs.tokens_in_batch();
          result.plan_rows = packed.pairs.rows();
          result.plan_row_length = packed.pairs.max_row_length();
        }
      }
    }
    at::manual_seed(static_cast<uint64_t>(config.train.seed));
    model::RewardModel model(config.model, data.vocab_size);
    const ParameterCounts counts = count_parameters(*model);
    // plan_memory takes whole pairs; the measured micro-batch's rows give its activations.
    MemoryPlan plan = plan_memory(config, counts, world.size, result.plan_row_length);
    const double activations =
        activation_bytes(config, result.plan_tokens, result.plan_rows, result.plan_row_length);
    for (StagePlan& s : plan.stages) s.bytes.activations = activations;
    result.plan = plan.stages;
  }
  return result;
}

nlohmann::json to_json(const BenchMemoryRanks& r) {
  auto categories = [](const MemoryCategories& c) {
    return nlohmann::json{{"parameters", c.parameters},   {"gradients", c.gradients},
                          {"master", c.master},           {"optimizer", c.optimizer},
                          {"activations", c.activations}, {"buffers", c.buffers}};
  };
  nlohmann::json ranks = nlohmann::json::array();
  for (const RankMemory& m : r.ranks) {
    ranks.push_back({{"rank", m.rank},
                     {"stage", m.stage},
                     {"sharded_optimizer", m.sharded_optimizer},
                     {"measured", categories(m.measured)},
                     {"peak", m.peak},
                     {"step_seconds", m.step_seconds},
                     {"traffic",
                      {m.traffic.all_reduce, m.traffic.reduce_scatter, m.traffic.all_gather,
                       m.traffic.broadcast}}});
  }
  nlohmann::json plan = nlohmann::json::array();
  for (const StagePlan& s : r.plan) {
    plan.push_back({{"stage", s.stage},
                    {"sharded_optimizer", s.sharded_optimizer},
                    {"bytes", categories(s.bytes)}});
  }
  return {{"world_size", r.world_size},
          {"steps", r.steps},
          {"backend", r.backend},
          {"ranks", ranks},
          {"plan", plan},
          {"plan_rows", r.plan_rows},
          {"plan_row_length", r.plan_row_length},
          {"plan_tokens", r.plan_tokens}};
}

BenchMemoryRanks bench_memory_ranks_from_json(const nlohmann::json& json) {
  auto categories = [](const nlohmann::json& j) {
    MemoryCategories c;
    c.parameters = j.at("parameters").get<double>();
    c.gradients = j.at("gradients").get<double>();
    c.master = j.at("master").get<double>();
    c.optimizer = j.at("optimizer").get<double>();
    c.activations = j.at("activations").get<double>();
    c.buffers = j.at("buffers").get<double>();
    c.not_concurrent = j.value("not_concurrent", 0.0);
    return c;
  };
  BenchMemoryRanks r;
  r.world_size = json.at("world_size").get<int64_t>();
  r.steps = json.at("steps").get<int64_t>();
  r.backend = json.at("backend").get<std::string>();
  r.plan_rows = json.at("plan_rows").get<int64_t>();
  r.plan_row_length = json.at("plan_row_length").get<int64_t>();
  r.plan_tokens = json.at("plan_tokens").get<int64_t>();
  for (const nlohmann::json& m : json.at("ranks")) {
    RankMemory rank;
    rank.rank = m.at("rank").get<int64_t>();
    rank.stage = m.at("stage").get<int64_t>();
    rank.sharded_optimizer = m.at("sharded_optimizer").get<bool>();
    rank.measured = categories(m.at("measured"));
    rank.peak = m.at("peak").get<double>();
    rank.step_seconds = m.at("step_seconds").get<double>();
    const auto traffic = m.at("traffic").get<std::vector<int64_t>>();
    rank.traffic = {traffic.at(0), traffic.at(1), traffic.at(2), traffic.at(3)};
    r.ranks.push_back(rank);
  }
  for (const nlohmann::json& s : json.at("plan")) {
    r.plan.push_back({s.at("stage").get<int64_t>(), s.at("sharded_optimizer").get<bool>(),
                      categories(s.at("bytes"))});
  }
  return r;
}

BenchMemoryRanks merge_rank_results(const std::vector<BenchMemoryRanks>& parts) {
  BenchMemoryRanks merged;
  for (const BenchMemoryRanks& part : parts) {
    if (merged.ranks.empty()) {
      merged.world_size = part.world_size;
      merged.steps = part.steps;
      merged.backend = part.backend;
    }
    merged.ranks.insert(merged.ranks.end(), part.ranks.begin(), part.ranks.end());
    if (!part.plan.empty()) {
      merged.plan = part.plan;
      merged.plan_rows = part.plan_rows;
      merged.plan_row_length = part.plan_row_length;
      merged.plan_tokens = part.plan_tokens;
    }
  }
  std::sort(merged.ranks.begin(), merged.ranks.end(), [](const RankMemory& a, const RankMemory& b) {
    return a.stage != b.stage ? a.stage < b.stage : a.rank < b.rank;
  });
  return merged;
}

std::string format_bench_memory_ranks(const BenchMemoryRanks& r) {
  constexpr double kMiB = 1024.0 * 1024.0;
  auto mib = [&](double bytes) { return fmt::format("{:.2f}", bytes / kMiB); };
  std::string out = fmt::format(
      "bench memory: {} {} ranks, mean of {} steps per stage after one warm-up step; MiB per "
      "rank (CPU allocator); plan for the longest micro-batch: {} tokens in {} row(s) of at most "
      "{}\n",
      r.world_size, r.backend, r.steps, r.plan_tokens, r.plan_rows, r.plan_row_length);
  const std::string header = fmt::format(
      "{:<18} {:>11} {:>11} {:>11} {:>11} {:>12} {:>11} {:>11} {:>11}\n", "", "parameters",
      "gradients", "master", "optimizer", "activations", "buffers", "total", "peak");
  double base_seconds = 0.0, base_traffic = 0.0;
  for (int64_t stage = 0; stage <= 3; ++stage) {
    const StagePlan* plan = nullptr;
    for (const StagePlan& s : r.plan) {
      if (s.stage == stage) plan = &s;
    }
    double seconds = 0.0, traffic = 0.0, worst_peak = 0.0;
    bool sharded = false;
    std::string rows;
    for (const RankMemory& m : r.ranks) {
      if (m.stage != stage) continue;
      sharded = m.sharded_optimizer;
      const MemoryCategories& c = m.measured;
      rows += fmt::format("{:<18} {:>11} {:>11} {:>11} {:>11} {:>12} {:>11} {:>11} {:>11}\n",
                          fmt::format("  rank {} measured", m.rank), mib(c.parameters),
                          mib(c.gradients), mib(c.master), mib(c.optimizer), mib(c.activations),
                          mib(c.buffers), mib(c.total()), mib(m.peak));
      seconds = std::max(seconds, m.step_seconds);
      traffic = std::max(traffic, m.traffic.ring_bytes(r.world_size));
      worst_peak = std::max(worst_peak, m.peak);
    }
    out += fmt::format("stage {} ({} optimizer)\n", stage, sharded ? "sharded" : "replicated");
    out += header + rows;
    if (plan != nullptr) {
      const MemoryCategories& p = plan->bytes;
      out += fmt::format("{:<18} {:>11} {:>11} {:>11} {:>11} {:>12} {:>11} {:>11} {:>11}\n",
                         "  plan", mib(p.parameters), mib(p.gradients), mib(p.master),
                         mib(p.optimizer), mib(p.activations), mib(p.buffers), mib(p.total()), "");
      out += fmt::format("  measured peak / plan total (highest rank): {:.3f}\n",
                         worst_peak / p.total());
    }
    if (stage == 0) {
      base_seconds = seconds;
      base_traffic = traffic;
    }
    out += fmt::format(
        "  step {:.4f} s (slowest rank), ratio to stage 0 {:.3f}; collectives {:.2f} MiB per "
        "rank per step (ring), ratio to stage 0 {:.3f}\n",
        seconds, seconds / base_seconds, traffic / kMiB,
        base_traffic > 0.0 ? traffic / base_traffic : 0.0);
  }
  out +=
      "total: measured, the categories' peaks added up (they need not coincide); the plan's, its "
      "predicted peak (the replicated path's gradients replace its activations); peak = the "
      "allocator's peak over the measured steps, which also holds backward's temporaries\n";
  return out;
}

}  // namespace omnirm::train
