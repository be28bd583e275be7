// Implementation of train/bench.h.
#include "omnirm/train/bench.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/cuda.h>

#include <chrono>

#include "omnirm/core/error.h"
#include "omnirm/model/cudnn_tuning.h"
#include "omnirm/train/batching.h"
#include "omnirm/train/dataset.h"
#include "omnirm/train/step.h"
#include "omnirm/train/trainer.h"

namespace omnirm::train {

namespace {

// Training FLOPs per unit of work for one model (see bench.h).
struct WorkModel {
  double per_backbone_token = 0.0;
  double per_attention_key = 0.0;
  double per_vision_item = 0.0;
  double per_audio_item = 0.0;
  double per_point_item = 0.0;

  double flops(const StepStats& s) const {
    return per_backbone_token * double(s.backbone_tokens) +
           per_attention_key * double(s.attention_keys) + per_vision_item * double(s.vision_items) +
           per_audio_item * double(s.audio_items) + per_point_item * double(s.point_items);
  }
};

WorkModel work_model(model::RewardModelImpl& model) {
  const ModelConfig& c = model.config();
  double backbone = 0, vision = 0, audio = 0, points = 0;
  for (const auto& item : model.named_parameters()) {
    const auto n = double(item.value().numel());
    const std::string& key = item.key();
    if (key.starts_with("model.embed_tokens")) continue;  // a lookup, not a product
    if (key.starts_with("model.")) backbone += n;
    if (key.starts_with("vision_tower.") || key.starts_with("resampler.")) vision += n;
    if (key.starts_with("audio_tower.")) audio += n;
    if (key.starts_with("point_tower.")) points += n;
  }
  const double patches = double((c.image_size / c.patch_size) * (c.image_size / c.patch_size));
  WorkModel w;
  w.per_backbone_token = 6.0 * backbone;
  w.per_attention_key = 3.0 * 4.0 * double(c.hidden_size) * double(c.num_layers);
  w.per_vision_item = 6.0 * vision * patches;
  w.per_audio_item = 6.0 * audio * double((c.audio_frames + 1) / 2);
  w.per_point_item = 6.0 * points * double(c.point_groups);
  return w;
}

// Waits for the device's queued work, so that a step's time is its whole cost.
void finish_device_work(at::Device device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

LayoutThroughput run_layout(Config config, bool prefix_sharing, const EncodedDataset& dataset,
                            int64_t vocab_size, int64_t steps, int64_t warmup) {
  config.model.prefix_sharing = prefix_sharing;
  const at::Device device = training_device(config.train.device, /*local_rank=*/0);
  model::use_cudnn_autotuning(config.model, device);
  at::manual_seed(static_cast<uint64_t>(config.train.seed));
  model::RewardModel model(config.model, vocab_size);
  model::initialize_weights(*model);
  model->to(device);
  model->train();
  auto optimizer = make_optimizer(*model, config.train);
  const WorkModel work = work_model(*model);
  const std::vector<int64_t> order =
      epoch_order(dataset.size(), uint64_t(config.train.seed), 0, config.data.shuffle);
  const int64_t batch = config.train.global_batch_pairs;
  LayoutThroughput out;
  for (int64_t step = 0; step < warmup + steps; ++step) {
    const std::vector<int64_t> indices = bench_batch_indices(order, step, batch);
    finish_device_work(device);
    const auto t0 = std::chrono::steady_clock::now();
    const StepStats stats =
        optimizer_step(*model, *optimizer, dataset, indices, config, config.train.lr, device);
    finish_device_work(device);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (step < warmup) continue;
    out.seconds += seconds;
    out.pairs += batch;
    out.data_tokens += stats.data_tokens;
    out.backbone_tokens += stats.backbone_tokens;
    out.media_items += stats.media_items;
    out.work_flops += work.flops(stats);
  }
  return out;
}

}  // namespace

BenchDataset load_bench_dataset(const Config& config) {
  const text::Tokenizer tokenizer = text::Tokenizer::load(config.data.tokenizer);
  BenchDataset out;
  out.dataset = load_encoded_dataset(config.data.train, tokenizer, config, /*keep_ties=*/false);
  if (out.dataset.size() < config.train.global_batch_pairs) {
    throw UserError(fmt::format("{}: {} pairs, fewer than one global batch of {}",
                                config.data.train, out.dataset.size(),
                                config.train.global_batch_pairs));
  }
  out.vocab_size = model_vocab_size(config.model, tokenizer);
  return out;
}

std::vector<int64_t> bench_batch_indices(const std::vector<int64_t>& order, int64_t step,
                                         int64_t batch_pairs) {
  const auto size = static_cast<int64_t>(order.size());
  const int64_t start = (step * batch_pairs) % (size - batch_pairs + 1);
  return {order.begin() + start, order.begin() + start + batch_pairs};
}

BenchTrainResult bench_train(const Config& config, int64_t steps, int64_t warmup, int64_t rounds) {
  if (config.train.threads > 0) at::set_num_threads(static_cast<int>(config.train.threads));
  const BenchDataset data = load_bench_dataset(config);
  const EncodedDataset& dataset = data.dataset;
  const int64_t vocab = data.vocab_size;
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
  std::string out = fmt::format("{:<22} {:>10} {:>12} {:>16} {:>12} {:>14}\n", "layout", "pairs/s",
                                "tokens/s", "backbone tokens", "media items", "est. GFLOP");
  auto row = [&](const char* name, const LayoutThroughput& t) {
    out += fmt::format("{:<22} {:>10.1f} {:>12.0f} {:>16} {:>12} {:>14.1f}\n", name,
                       t.pairs_per_second(), t.tokens_per_second(), t.backbone_tokens,
                       t.media_items, t.work_flops / 1e9);
  };
  row("prefix sharing on", r.shared);
  row("prefix sharing off", r.naive);
  out += fmt::format(
      "speedup (on / off): {:.3f}x   ideal (work off / on): {:.3f}x   fraction of ideal: "
      "{:.1f}%   (backbone tokens alone: {:.3f}x)\n",
      r.speedup(), r.ideal_speedup(), 100.0 * r.speedup() / r.ideal_speedup(), r.token_ratio());
  return out;
}

}  // namespace omnirm::train
