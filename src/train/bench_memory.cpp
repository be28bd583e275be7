// Implementation of train/bench_memory.h.
#include "omnirm/train/bench_memory.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <chrono>

#include "omnirm/core/error.h"
#include "omnirm/train/bench.h"
#include "omnirm/train/dataset.h"
#include "omnirm/train/memory_meter.h"
#include "omnirm/train/step.h"
#include "omnirm/train/trainer.h"

namespace omnirm::train {

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

void run_setting(Config config, MemorySetting& setting, const EncodedDataset& dataset,
                 int64_t vocab_size, int64_t steps) {
  config.train.precision = setting.precision;
  config.train.activation_checkpointing = setting.activation_checkpointing;
  CpuMemoryMeter& meter = CpuMemoryMeter::instance();
  const at::Device device(at::kCPU);
  at::manual_seed(static_cast<uint64_t>(config.train.seed));
  model::RewardModel model(config.model, vocab_size);
  model::initialize_weights(*model);
  model->train();
  model->set_activation_checkpointing(setting.activation_checkpointing);
  auto optimizer = make_optimizer(*model, config.train);
  const std::vector<int64_t> order =
      epoch_order(dataset.size(), uint64_t(config.train.seed), 0, config.data.shuffle);
  const int64_t batch = config.train.global_batch_pairs;
  for (int64_t step = 0; step <= steps; ++step) {
    const std::vector<int64_t> indices = bench_batch_indices(order, step, batch);
    const int64_t before = meter.current_bytes();
    meter.reset_peak();
    const auto t0 = std::chrono::steady_clock::now();
    const StepStats stats =
        optimizer_step(*model, *optimizer, dataset, indices, config, config.train.lr, device);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (step == 0) continue;  // allocates the optimizer state
    setting.peak_bytes = std::max(setting.peak_bytes, meter.peak_bytes());
    setting.step_peak_bytes = std::max(setting.step_peak_bytes, meter.peak_bytes() - before);
    setting.seconds += seconds;
    setting.steps += 1;
    setting.final_loss = stats.loss_value();
  }
}

}  // namespace

std::string MemorySetting::name() const {
  return precision + (activation_checkpointing > 0 ? " + checkpointing" : "");
}

BenchMemoryResult bench_memory(const Config& config, int64_t steps) {
  if (steps < 1) throw UserError("bench memory: --steps must be at least 1");
  if (config.train.threads > 0) at::set_num_threads(static_cast<int>(config.train.threads));
  CpuMemoryMeter::instance();  // counts from here on
  const BenchDataset data = load_bench_dataset(config);
  BenchMemoryResult result;
  result.settings = {{"fp32", 0}, {"fp32", 1}, {"bf16", 0}, {"bf16", 1}};
  for (MemorySetting& setting : result.settings) {
    run_setting(config, setting, data.dataset, data.vocab_size, steps);
  }
  return result;
}

std::string format_bench_memory(const BenchMemoryResult& r) {
  const MemorySetting& base = r.settings.front();
  std::string out =
      fmt::format("{:<24} {:>14} {:>10} {:>18} {:>10} {:>10} {:>10} {:>10}\n", "setting",
                  "peak MiB", "ratio", "step peak MiB", "ratio", "steps/s", "ratio", "loss");
  for (const MemorySetting& s : r.settings) {
    const double rate = double(s.steps) / s.seconds;
    const double base_rate = double(base.steps) / base.seconds;
    out += fmt::format(
        "{:<24} {:>14.2f} {:>10.3f} {:>18.2f} {:>10.3f} {:>10.3f} {:>10.3f} {:>10.4f}\n", s.name(),
        double(s.peak_bytes) / kMiB, double(s.peak_bytes) / double(base.peak_bytes),
        double(s.step_peak_bytes) / kMiB, double(s.step_peak_bytes) / double(base.step_peak_bytes),
        rate, rate / base_rate, s.final_loss);
  }
  out += fmt::format(
      "baseline: {} (peak = weights + gradients + optimizer state + kept activations; "
      "step peak = the rise during a step)\n",
      base.name());
  return out;
}

}  // namespace omnirm::train
