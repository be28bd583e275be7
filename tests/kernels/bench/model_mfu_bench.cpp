// omnirm_bench_mfu: whole-model training throughput of a 0.5B-class Qwen2 reward model
// (hidden 896, 24 layers, 14 query / 2 key-value heads of 64, MLP 4864, vocabulary 151936;
// no LM head) on pair-prefix rows of 4096 tokens (prompt:response 4:1, chosen and rejected
// equally long), as the trainer runs a step: bf16 autocast over fp32 weights, the model's
// automatic choices (the CUDA attention kernels and the fused head + BT loss on a GPU),
// backward, gradient clipping and AdamW. It prints step time, tokens/s, model TFLOP/s and MFU
// against a peak (default 989 TFLOP/s, dense bf16 of an H100 / H200 SXM).
//
// Model FLOPs per step, the usual MFU count (recomputation and tile skipping aside):
//   6 x (backbone weights without the embedding table) x tokens     (forward + backward)
//   + 12 x hidden x layers x (query-key pairs the mask allows)      (QK^T and PV, x3)
// The value head (one dot product per response) is left out.
//
//   omnirm_bench_mfu [--device cuda|cpu] [--rows R] [--steps N] [--warmup N]
//                    [--peak-tflops T] [--tiny]
// --tiny: a 2-layer, 128-wide model on rows of 256 tokens (a quick run of the same code on the
// CPU). Without CUDA, --device cuda says so and exits 2.
#include <ATen/ATen.h>
#include <torch/cuda.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "omnirm/core/config.h"
#include "omnirm/model/reward_model.h"
#include "omnirm/ops/attention.h"
#include "omnirm/ops/autocast.h"

namespace {

struct Options {
  bool cuda = true;
  bool tiny = false;
  int64_t rows = 4;
  int64_t steps = 10;
  int64_t warmup = 3;
  double peak_tflops = 989.0;
};

omnirm::ModelConfig model_config(bool tiny) {
  omnirm::ModelConfig c;
  if (tiny) {
    c.vocab_size = 1000;
    c.hidden_size = 128;
    c.num_layers = 2;
    c.num_heads = 4;
    c.num_kv_heads = 2;
    c.intermediate_size = 384;
    return c;
  }
  c.vocab_size = 151936;
  c.hidden_size = 896;
  c.num_layers = 24;
  c.num_heads = 14;
  c.num_kv_heads = 2;
  c.intermediate_size = 4864;
  c.rope_theta = 1000000.0;
  return c;
}

// R pair-prefix rows of row_tokens tokens: prompt, chosen, rejected with prompt = 4 x each
// response (the rest of the division goes to the prompt); random token ids.
struct Batch {
  omnirm::model::ModelInputs inputs;
  int64_t tokens = 0;
  int64_t allowed_pairs = 0;
  int64_t prompt = 0;
  int64_t response = 0;
};

Batch make_batch(int64_t rows, int64_t row_tokens, int64_t vocab, at::Device device) {
  Batch batch;
  batch.response = row_tokens / 6;
  batch.prompt = row_tokens - 2 * batch.response;
  std::vector<int64_t> offsets = {0};
  std::vector<int8_t> segments;
  std::vector<int64_t> positions;
  std::vector<int64_t> chosen_last;
  std::vector<int64_t> rejected_last;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t start = offsets.back();
    for (int64_t i = 0; i < batch.prompt; ++i) {
      segments.push_back(0);
      positions.push_back(i);
    }
    for (const int8_t code : {int8_t{1}, int8_t{2}}) {
      for (int64_t i = 0; i < batch.response; ++i) {
        segments.push_back(code);
        positions.push_back(batch.prompt + i);
      }
    }
    chosen_last.push_back(start + batch.prompt + batch.response - 1);
    rejected_last.push_back(start + row_tokens - 1);
    offsets.push_back(start + row_tokens);
  }
  batch.tokens = offsets.back();
  batch.allowed_pairs = omnirm::ops::attention_allowed_pairs(offsets, segments);
  omnirm::model::ModelInputs& in = batch.inputs;
  in.tokens = at::randint(vocab, {batch.tokens}, at::kLong).to(device);
  in.positions = at::tensor(positions, at::kLong).to(device);
  in.layout = omnirm::ops::make_attention_layout(offsets, segments, device);
  in.chosen_last = at::tensor(chosen_last, at::kLong).to(device);
  in.rejected_last = at::tensor(rejected_last, at::kLong).to(device);
  in.margins = at::zeros({rows}, at::kFloat).to(device);
  return batch;
}

void synchronize(bool cuda) {
  if (cuda) {
    torch::cuda::synchronize();
  }
}

int run(const Options& options) {
  const at::Device device = options.cuda ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
  const omnirm::ModelConfig config = model_config(options.tiny);
  const int64_t row_tokens = options.tiny ? 256 : 4096;
  at::manual_seed(0);
  omnirm::model::RewardModel model(config, config.vocab_size);
  omnirm::model::initialize_weights(*model);
  model->to(device);
  model->train();
  torch::optim::AdamW optimizer(model->parameters(),
                                torch::optim::AdamWOptions(1e-5).weight_decay(0.01));

  double dense_weights = 0.0;  // backbone weights that multiply every token
  for (const auto& item : model->named_parameters()) {
    if (item.key().starts_with("model.") && !item.key().starts_with("model.embed_tokens")) {
      dense_weights += static_cast<double>(item.value().numel());
    }
  }
  const Batch batch = make_batch(options.rows, row_tokens, config.vocab_size, device);
  const double step_flops = 6.0 * dense_weights * static_cast<double>(batch.tokens) +
                            12.0 * static_cast<double>(config.hidden_size) *
                                static_cast<double>(config.num_layers) *
                                static_cast<double>(batch.allowed_pairs);
  std::printf(
      "model: hidden %lld, %lld layers, %lld/%lld heads, MLP %lld, vocabulary %lld; %.1fM "
      "backbone weights besides the embedding table\n",
      static_cast<long long>(config.hidden_size), static_cast<long long>(config.num_layers),
      static_cast<long long>(config.num_heads), static_cast<long long>(config.num_kv_heads),
      static_cast<long long>(config.intermediate_size), static_cast<long long>(config.vocab_size),
      dense_weights / 1e6);
  std::printf(
      "batch: %lld rows of %lld tokens (prompt %lld, chosen = rejected %lld), %lld tokens, "
      "%lld allowed query-key pairs; %.2f model TFLOP per step; device %s, bf16 autocast\n",
      static_cast<long long>(options.rows), static_cast<long long>(row_tokens),
      static_cast<long long>(batch.prompt), static_cast<long long>(batch.response),
      static_cast<long long>(batch.tokens), static_cast<long long>(batch.allowed_pairs),
      step_flops / 1e12, options.cuda ? "cuda:0" : "cpu");

  const auto step = [&] {
    optimizer.zero_grad();
    at::Tensor loss;
    {
      omnirm::ops::AutocastScope autocast(device.type(), omnirm::ops::Precision::bf16);
      loss = model->loss(batch.inputs, 0.0).loss;  // the fused head + loss on CUDA
    }
    loss.backward();
    torch::nn::utils::clip_grad_norm_(model->parameters(), 1.0);
    optimizer.step();
    return loss;
  };
  at::Tensor loss;
  for (int64_t i = 0; i < options.warmup; ++i) {
    loss = step();
  }
  synchronize(options.cuda);
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < options.steps; ++i) {
    loss = step();
  }
  synchronize(options.cuda);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
      static_cast<double>(options.steps);
  const double loss_value = loss.item<double>();
  if (!std::isfinite(loss_value)) {
    std::printf("omnirm_bench_mfu: the loss is not finite (%f); nothing measured\n", loss_value);
    return 1;
  }
  const double tflops = step_flops / seconds / 1e12;
  std::printf("step %.1f ms (mean of %lld after %lld warm-up), %.0f tokens/s, loss %.4f\n",
              seconds * 1e3, static_cast<long long>(options.steps),
              static_cast<long long>(options.warmup), static_cast<double>(batch.tokens) / seconds,
              loss_value);
  std::printf("model TFLOP/s %.1f; MFU %.1f%% of %.0f TFLOP/s peak (goal >= 40%%)\n", tflops,
              100.0 * tflops / options.peak_tflops, options.peak_tflops);
  return 0;
}

// A positive number from argv[i + 1], or exits with a usage line.
double positive_argument(int argc, char** argv, int& i) {
  const std::string name = argv[i];
  char* end = nullptr;
  const double value = i + 1 < argc ? std::strtod(argv[++i], &end) : 0.0;
  if (end == nullptr || *end != '\0' || !(value > 0.0)) {
    std::fprintf(stderr, "omnirm_bench_mfu: %s needs a positive number\n", name.c_str());
    std::exit(2);
  }
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each line reaches a log even if time runs out
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--device" && i + 1 < argc &&
        (std::string(argv[i + 1]) == "cuda" || std::string(argv[i + 1]) == "cpu")) {
      options.cuda = std::string(argv[++i]) == "cuda";
    } else if (arg == "--tiny") {
      options.tiny = true;
    } else if (arg == "--rows") {
      options.rows = static_cast<int64_t>(positive_argument(argc, argv, i));
    } else if (arg == "--steps") {
      options.steps = static_cast<int64_t>(positive_argument(argc, argv, i));
    } else if (arg == "--warmup") {
      options.warmup = static_cast<int64_t>(positive_argument(argc, argv, i));
    } else if (arg == "--peak-tflops") {
      options.peak_tflops = positive_argument(argc, argv, i);
    } else {
      std::fprintf(stderr,
                   "usage: omnirm_bench_mfu [--device cuda|cpu] [--rows R] [--steps N] "
                   "[--warmup N] [--peak-tflops T] [--tiny]\n");
      return 2;
    }
  }
  if (options.cuda && (!torch::cuda::is_available() || torch::cuda::device_count() == 0)) {
    std::printf(
        "omnirm_bench_mfu: needs a CUDA device for --device cuda; none found, nothing "
        "measured\n");
    return 2;
  }
  return run(options);
}
