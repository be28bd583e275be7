// Implementation of train/plan.h. The decoder's parameter counts follow model/layers.cpp with
// LoRA's adapters, the towers' come from model/parameter_count.h; the activation terms follow the
// tensors autograd keeps in omnirm's decoder layer, per token:
//   two RMSNorms        fp32 input copy + fp32 normalised values + the output (compute type)
//   attention           q, k, v after rotation, the kernel's output and o_proj's input
//                       (compute type), the softmax statistics (fp32 per head); the dense
//                       backends (reference) keep fp32 probabilities per (query, key) pair
//   SwiGLU MLP          gate, silu(gate), up and their product (compute type)
// A checkpointed layer keeps only its input; backward recomputes one layer at a time.
#include "omnirm/train/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "omnirm/model/lora.h"
#include "omnirm/model/parameter_count.h"
#include "omnirm/train/zero_training.h"

namespace omnirm::train {

namespace {

int64_t linear(int64_t in, int64_t out, bool bias) { return in * out + (bias ? out : 0); }

bool lora_targets(const LoraConfig& lora, const std::string& name) {
  const std::vector<std::string> targets = model::lora_target_modules(lora);
  return std::find(targets.begin(), targets.end(), name) != targets.end();
}

// Bytes per element of the working parameters and of the activations.
double param_bytes(const Config& config) { return config.train.param_dtype == "bf16" ? 2.0 : 4.0; }
double compute_bytes(const Config& config) {
  return config.train.precision == "fp32" && config.train.param_dtype == "fp32" ? 4.0 : 2.0;
}

}  // namespace

double MemoryCategories::total() const {
  return parameters + gradients + master + optimizer + activations + buffers - not_concurrent;
}

const StagePlan& MemoryPlan::stage(int64_t s) const { return stages.at(static_cast<size_t>(s)); }

const StagePlan* MemoryPlan::smallest_fitting(double bytes) const {
  for (const StagePlan& s : stages) {
    if (s.bytes.total() <= bytes) return &s;
  }
  return nullptr;
}

ParameterCounts count_parameters(const ModelConfig& m, const LoraConfig& lora, int64_t vocab_size) {
  ParameterCounts c;
  const int64_t d = m.hidden_size;
  const int64_t head_dim = d / m.num_heads;
  const int64_t q = m.num_heads * head_dim;
  const int64_t kv = m.num_kv_heads * head_dim;
  const bool lora_on = lora.rank > 0;
  // One decoder layer: its projections (name, in, out, bias) and two RMSNorms.
  const struct {
    const char* name;
    int64_t in, out;
    bool bias;
  } projections[] = {{"q_proj", d, q, m.qkv_bias},
                     {"k_proj", d, kv, m.qkv_bias},
                     {"v_proj", d, kv, m.qkv_bias},
                     {"o_proj", q, d, false},
                     {"gate_proj", d, m.intermediate_size, false},
                     {"up_proj", d, m.intermediate_size, false},
                     {"down_proj", m.intermediate_size, d, false}};
  int64_t layer_base = 2 * d, layer_adapters = 0;
  for (const auto& p : projections) {
    layer_base += linear(p.in, p.out, p.bias);
    if (lora_on && lora_targets(lora, p.name)) layer_adapters += lora.rank * (p.in + p.out);
  }
  const int64_t layer_total = layer_base + layer_adapters;
  const int64_t layer_trainable = lora_on ? layer_adapters : layer_base;
  c.embedding = vocab_size * d;
  c.head = linear(d, 1, m.head_bias);
  c.backbone = m.num_layers * layer_total + d;
  c.backbone_trainable = m.num_layers * layer_trainable + (lora_on ? 0 : d);
  c.block_trainable = m.num_layers * layer_trainable;
  c.largest_block = m.num_layers > 0 ? layer_trainable : 0;
  // The towers as the model builds them (model/parameter_count.h, MiniCPM-o's shapes
  // included); under minicpmo a frozen audio tower keeps its projector trainable.
  const model::ParameterCounts parts = model::count_parameters(m, vocab_size);
  const int64_t vision = parts.vision + parts.resampler;
  const int64_t audio = parts.audio + parts.audio_projector;
  const int64_t towers = vision + audio + parts.points;
  int64_t towers_trainable = 0;
  if (!m.freeze_vision) towers_trainable += vision;
  if (!m.freeze_audio) {
    towers_trainable += audio;
  } else if (m.arch == "minicpmo") {
    towers_trainable += parts.audio_projector;
  }
  if (!m.freeze_points) towers_trainable += parts.points;
  c.total = c.embedding + c.backbone + c.head + towers;
  c.trainable =
      lora_on ? c.block_trainable + c.head : c.embedding + c.backbone + c.head + towers_trainable;
  c.frozen = c.total - c.trainable;
  return c;
}

ParameterCounts count_parameters(model::RewardModelImpl& model) {
  ParameterCounts c;
  std::map<std::string, int64_t> blocks;
  for (const auto& item : model.named_parameters()) {
    const std::string& name = item.key();
    const int64_t n = item.value().numel();
    const bool trainable = item.value().requires_grad();
    c.total += n;
    (trainable ? c.trainable : c.frozen) += n;
    const std::string unit = zero_unit_of(name);
    const bool block = unit.starts_with("model.layers.");
    if (block && trainable) blocks[unit] += n;
    if (name.starts_with("score.")) c.head += n;
    if (name.starts_with("model.embed_tokens.")) c.embedding += n;
    if (block || name.starts_with("model.norm.")) {
      c.backbone += n;
      if (trainable) c.backbone_trainable += n;
    }
  }
  for (const auto& [unit, n] : blocks) {
    c.block_trainable += n;
    c.largest_block = std::max(c.largest_block, n);
  }
  return c;
}

RowShape pair_rows(const Config& config, int64_t tokens_per_pair) {
  RowShape shape;
  if (config.model.prefix_sharing) {
    shape.rows = 1;
    shape.row_length = tokens_per_pair;
  } else {
    // Two sequences, each at most the length budget of prompt + one response.
    shape.rows = 2;
    shape.row_length = tokens_per_pair;
  }
  shape.tokens = shape.rows * shape.row_length;
  return shape;
}

double activation_bytes(const Config& config, int64_t tokens, int64_t rows,
                        int64_t max_row_length) {
  const ModelConfig& m = config.model;
  const double c = compute_bytes(config);
  const double h = double(m.hidden_size);
  const double kv = double(m.num_kv_heads * (m.hidden_size / m.num_heads));
  const double heads = double(m.num_heads);
  const double n = double(tokens);
  const double padded = double(rows) * double(max_row_length);
  const double norms = n * 2.0 * (8.0 * h + c * h);
  // The kernel sees rows padded to the longest: q, k, v and its output there, o_proj's input
  // unpadded.
  double attention = padded * (c * (h + 2.0 * kv) + c * h + 4.0 * heads) + n * c * h;
  if (m.attention_backend == "reference") {
    // fp32 copies of q and of k, v repeated per query head, and the probabilities.
    attention += padded * 4.0 * (3.0 * h + heads * double(max_row_length));
  }
  const double mlp = n * 4.0 * c * double(m.intermediate_size);
  // RoPE's cos and sin tables, cast to fp32 for q and for k in every layer.
  const double rotary = n * 2.0 * 2.0 * 4.0 * double(m.hidden_size / m.num_heads);
  const double layer = norms + attention + mlp + rotary;
  const int64_t every = config.train.activation_checkpointing;
  int64_t checkpointed = 0;
  for (int64_t i = 0; i < m.num_layers; ++i) checkpointed += every > 0 && i % every == 0;
  const double plain = double(m.num_layers - checkpointed);
  double bytes = plain * layer + double(checkpointed) * n * c * h;
  // A checkpointed layer is recomputed in backward, and its backward's own temporaries (the
  // gradients of the MLP's and attention's intermediates) come on top while its saved
  // tensors are freed one by one: about half the layer again at the peak.
  if (checkpointed > 0) bytes += 1.5 * layer;
  bytes += n * (8.0 * h + c * h);  // the final norm
  bytes += 2.0 * n * c * h;        // gradients flowing back between layers
  return bytes;
}

MemoryPlan plan_memory(const Config& config, const ParameterCounts& n, int64_t world_size,
                       int64_t tokens_per_pair) {
  MemoryPlan plan;
  plan.world_size = world_size;
  const RowShape row = pair_rows(config, tokens_per_pair);
  const int64_t rows = row.rows * config.train.micro_batch_pairs;
  plan.tokens_per_micro_batch = rows * row.row_length;
  const double activations = activation_bytes(config, rows * row.row_length, rows, row.row_length);
  const double w = double(world_size);
  const double pb = param_bytes(config);
  const double trainable = double(n.trainable);
  const double head = double(n.head);
  const double frozen = double(n.frozen);
  const double block = double(n.largest_block);
  const double non_block = double(n.trainable - n.block_trainable);
  const bool bf16_reduce = config.dist.reduce_dtype == "bf16";
  const int64_t micro_steps =
      config.train.global_batch_pairs / (world_size * config.train.micro_batch_pairs);
  for (int64_t stage = 0; stage <= 3; ++stage) {
    StagePlan s;
    s.stage = stage;
    Config at_stage = config;
    at_stage.dist.zero_stage = stage;
    s.sharded_optimizer = uses_zero_engine(at_stage);
    MemoryCategories& b = s.bytes;
    b.activations = activations;
    if (!s.sharded_optimizer) {
      b.parameters = 4.0 * (trainable + frozen);
      b.gradients = 4.0 * trainable;
      b.optimizer = 8.0 * trainable / (stage == 1 ? w : 1.0);
      b.buffers = world_size > 1 ? 4.0 * trainable : 0.0;
      b.not_concurrent = std::min(b.gradients, b.activations);
      plan.stages.push_back(s);
      continue;
    }
    const double share = stage == 0 ? 1.0 : w;
    const double working = pb * (trainable - head) + 4.0 * head;
    if (stage == 3 && world_size > 1) {
      b.parameters =
          working / w + pb * (non_block - head) + 4.0 * head + 2.0 * pb * block + pb * frozen;
    } else {
      b.parameters = working + pb * frozen;
    }
    // Stage 1 accumulates whole gradients over the micro-steps; with one micro-step per rank
    // its buckets are reduced during backward as at stage 2 (and counted as gradients).
    const bool accumulates = micro_steps > 1;
    const double buckets = world_size > 1 ? std::max(3.0 * block, non_block + 2.0 * block)
                                          : std::max(block, non_block);
    b.gradients = stage == 0   ? 4.0 * trainable
                  : stage == 1 ? 4.0 * trainable / w + 4.0 * (accumulates ? trainable : buckets)
                               : 4.0 * trainable / w;
    b.master = pb == 4.0 ? 0.0 : 4.0 * (trainable - head) / share;
    b.optimizer = 8.0 * trainable / share;
    if (stage >= 2) {
      // Reduction buckets (fp32, whole units) and their reduce-scatter outputs: a launch
      // briefly holds three reductions in flight before it retires the oldest — three blocks
      // during backward, the non-block units and two blocks at its end.
      b.buffers = 4.0 * buckets * (world_size > 1 ? 1.0 + 1.0 / w : 1.0);
      if (bf16_reduce && world_size > 1) b.buffers += 2.0 * 2.0 * block;
    } else if (bf16_reduce && world_size > 1) {
      b.buffers = 2.0 * 2.0 * std::max(block, non_block);
    }
    if (stage == 1 && !accumulates && world_size > 1) {
      // Its buckets reduce during backward as at stage 2, into reduce-scatter outputs.
      b.buffers = std::max(b.buffers, 4.0 * buckets / w);
    }
    if ((stage == 1 || stage == 2) && world_size > 1) {
      // The updated slices copied for the all-gather after the step.
      b.buffers = std::max(b.buffers, working / w);
    }
    plan.stages.push_back(s);
  }
  return plan;
}

TimeEstimate estimate_time(const Config& config, const ParameterCounts& n, int64_t world_size,
                           int64_t tokens_per_pair, double peak_tflops, double mfu,
                           int64_t total_steps) {
  TimeEstimate t;
  const ModelConfig& m = config.model;
  const RowShape row = pair_rows(config, tokens_per_pair);
  const double tokens = double(row.tokens);
  const double trainable = double(n.backbone_trainable);
  const double frozen = double(n.backbone - n.backbone_trainable);
  const int64_t every = config.train.activation_checkpointing;
  int64_t checkpointed = 0;
  for (int64_t i = 0; i < m.num_layers; ++i) checkpointed += every > 0 && i % every == 0;
  const double recompute = m.num_layers > 0 ? double(checkpointed) / double(m.num_layers) : 0.0;
  const double forward = 2.0 * (trainable + frozen);
  const double backward = 4.0 * trainable + 2.0 * frozen;
  // Each row is causal: on average a query sees half of its row.
  const double pairs_seen = double(row.rows) * double(row.row_length) * double(row.row_length) / 2;
  const double attention_forward = 4.0 * double(m.num_layers) * double(m.hidden_size) * pairs_seen;
  t.flops_per_pair =
      tokens * (forward * (1.0 + recompute) + backward) + attention_forward * (3.0 + recompute);
  t.flops_per_step = t.flops_per_pair * double(config.train.global_batch_pairs);
  if (peak_tflops > 0.0 && mfu > 0.0) {
    t.step_seconds = t.flops_per_step / (double(world_size) * peak_tflops * 1e12 * mfu);
  }
  t.steps = total_steps;
  t.run_seconds = t.step_seconds * double(total_steps);
  return t;
}

std::string format_mib(double bytes) {
  const double mib = bytes / (1024.0 * 1024.0);
  if (std::abs(mib) >= 1024.0) return fmt::format("{:.2f} GiB", mib / 1024.0);
  return fmt::format("{:.1f} MiB", mib);
}

std::string category_line(const MemoryCategories& b) {
  return fmt::format(
      "parameters {}, gradients {}, master {}, optimizer {}, activations {}, buffers {}",
      format_mib(b.parameters), format_mib(b.gradients), format_mib(b.master),
      format_mib(b.optimizer), format_mib(b.activations), format_mib(b.buffers));
}

}  // namespace omnirm::train
