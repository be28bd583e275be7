// Implementation of train/bench.h.
#include "omnirm/train/bench.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <chrono>

#include "omnirm/core/error.h"
#include "omnirm/train/batching.h"
#include "omnirm/train/dataset.h"
#include "omnirm/train/step.h"
#include "omnirm/train/trainer.h"

namespace omnirm::train {

namespace {

LayoutThroughput run_layout(Config config, bool prefix_sharing, const EncodedDataset& dataset,
                            int64_t vocab_size, int64_t steps, int64_t warmup) {
  config.model.prefix_sharing = prefix_sharing;
  const at::Device device(at::kCPU);
  at::manual_seed(static_cast<uint64_t>(config.train.seed));
  model::RewardModel model(config.model, vocab_size);
  model::initialize_weights(*model);
  model->train();
  auto optimizer = make_optimizer(*model, config.train);
  const std::vector<int64_t> order =
      epoch_order(dataset.size(), uint64_t(config.train.seed), 0, config.data.shuffle);
  const int64_t batch = config.train.global_batch_pairs;
  LayoutThroughput out;
  for (int64_t step = 0; step < warmup + steps; ++step) {
    const int64_t start = (step * batch) % (dataset.size() - batch + 1);
    const std::vector<int64_t> indices(order.begin() + start, order.begin() + start + batch);
    const auto t0 = std::chrono::steady_clock::now();
    const StepStats stats =
        optimizer_step(*model, *optimizer, dataset, indices, config, config.train.lr, device);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (step < warmup) continue;
    out.seconds += seconds;
    out.pairs += batch;
    out.data_tokens += stats.data_tokens;
    out.backbone_tokens += stats.backbone_tokens;
  }
  return out;
}

}  // namespace

BenchTrainResult bench_train(const Config& config, int64_t steps, int64_t warmup, int64_t rounds) {
  if (config.train.threads > 0) at::set_num_threads(static_cast<int>(config.train.threads));
  const text::Tokenizer tokenizer = text::Tokenizer::load(config.data.tokenizer);
  const EncodedDataset dataset =
      load_encoded_dataset(config.data.train, tokenizer, config, /*keep_ties=*/false);
  if (dataset.size() < config.train.global_batch_pairs) {
    throw UserError(fmt::format("{}: {} pairs, fewer than one global batch of {}",
                                config.data.train, dataset.size(),
                                config.train.global_batch_pairs));
  }
  const int64_t vocab = model_vocab_size(config.model, tokenizer);
  BenchTrainResult best;
  for (int64_t round = 0; round < rounds; ++round) {
    for (const bool sharing : {true, false}) {
      LayoutThroughput t = run_layout(config, sharing, dataset, vocab, steps, warmup);
      LayoutThroughput& slot = sharing ? best.shared : best.naive;
      if (slot.seconds == 0.0 || t.seconds < slot.seconds) slot = t;
    }
  }
  return best;
}

std::string format_bench_train(const BenchTrainResult& r) {
  std::string out = fmt::format("{:<22} {:>10} {:>12} {:>16}\n", "layout", "pairs/s", "tokens/s",
                                "backbone tokens");
  auto row = [&](const char* name, const LayoutThroughput& t) {
    out += fmt::format("{:<22} {:>10.1f} {:>12.0f} {:>16}\n", name, t.pairs_per_second(),
                       t.tokens_per_second(), t.backbone_tokens);
  };
  row("prefix sharing on", r.shared);
  row("prefix sharing off", r.naive);
  out += fmt::format(
      "speedup (on / off): {:.3f}x   backbone-token ratio (ideal): {:.3f}x   "
      "fraction of ideal: {:.1f}%\n",
      r.speedup(), r.token_ratio(), 100.0 * r.speedup() / r.token_ratio());
  return out;
}

}  // namespace omnirm::train
