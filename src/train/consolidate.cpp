// Implementation of train/consolidate.h.
#include "omnirm/train/consolidate.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <filesystem>
#include <set>

#include "omnirm/core/error.h"
#include "omnirm/io/safetensors.h"
#include "omnirm/io/safetensors_writer.h"
#include "omnirm/model/audio_tower.h"
#include "omnirm/model/hf_names.h"
#include "omnirm/model/lora.h"

namespace omnirm::train {

namespace {

namespace fs = std::filesystem;

// "x.q_proj.weight" → "x.q_proj" when `name` is a projection weight.
std::string projection_of(const std::string& name) {
  const std::string suffix = ".weight";
  return name.ends_with(suffix) ? name.substr(0, name.size() - suffix.size()) : std::string();
}

// The audio tower's fixed sinusoidal positions (a buffer, not in any checkpoint), from a tower
// built without layers.
at::Tensor audio_positions(const ModelConfig& m) {
  model::AudioTowerOptions options;
  options.num_mel_bins = m.mel_bins;
  options.hidden_size = m.audio_hidden;
  options.num_layers = 0;
  options.num_heads = m.audio_heads;
  options.intermediate_size = m.audio_intermediate;
  options.max_source_positions = (m.audio_frames + 1) / 2;
  options.pool_stride = m.audio_pool_stride;
  options.out_dim = m.hidden_size;
  model::AudioTower tower(options);
  for (const auto& item : tower->named_buffers()) {
    if (item.key() == "embed_positions") return item.value().clone();
  }
  throw std::logic_error("the audio tower has no embed_positions buffer");
}

}  // namespace

std::optional<std::string> sharded_checkpoint_dir(const std::string& path) {
  const std::optional<std::string> dir = checkpoint_dir_in(path);
  if (!dir || !fs::exists(fs::path(*dir) / optimizer_shard_name(0))) return std::nullopt;
  return dir;
}

ConsolidatedCheckpoint::ConsolidatedCheckpoint(const std::string& dir) : dir_(dir) {
  const fs::path root(dir);
  const TrainerState state = read_checkpoint_state(dir);
  config_ = load_config((root / "config.yaml").string());
  tokenizer_ = std::make_unique<text::Tokenizer>(
      text::Tokenizer::load(text::checkpoint_tokenizer_file(dir)));
  weights_ = std::make_unique<io::SafetensorsMapping>((root / "model.safetensors").string());
  shards_ = std::make_unique<OptimizerShardReader>(dir, state.optimizer_shards);
  if (!weights_->contains("model.embed_tokens.weight")) {
    throw UserError(weights_->path() + ": holds no model.embed_tokens.weight");
  }
  for (const io::SafetensorsTensorInfo& info : weights_->header().tensors) {
    if (info.name == "model.embed_tokens.weight") vocab_size_ = info.shape.at(0);
  }
}

ConsolidatedCheckpoint::~ConsolidatedCheckpoint() = default;

const std::vector<io::SafetensorsTensorInfo>& ConsolidatedCheckpoint::parameters() const {
  return weights_->header().tensors;
}

bool ConsolidatedCheckpoint::has(const std::string& name) const { return weights_->contains(name); }

at::Tensor ConsolidatedCheckpoint::tensor(const std::string& name) const {
  if (shards_->contains("master", name)) {
    for (const io::SafetensorsTensorInfo& info : parameters()) {
      if (info.name != name) continue;
      at::Tensor out = at::empty(info.shape, at::kFloat);
      shards_->read("master", name, 0, out.numel(), out.view(-1));
      return out;
    }
  }
  return weights_->tensor(name).to(at::kFloat);
}

std::optional<double> write_consolidated_weights(const ConsolidatedCheckpoint& checkpoint,
                                                 const std::string& out_dir, bool minicpmo,
                                                 uint64_t max_shard_bytes) {
  const LoraConfig& lora = checkpoint.config().lora;
  const double scaling = lora.rank > 0 ? lora.alpha / double(lora.rank) : 0.0;
  // What goes where, in model.safetensors' order: (source name, exported name, transpose).
  struct Entry {
    std::string source;
    std::string name;
    bool transpose = false;
    std::vector<int64_t> shape;
  };
  std::vector<Entry> weights, head;
  for (const io::SafetensorsTensorInfo& info : checkpoint.parameters()) {
    if (model::is_lora_parameter(info.name)) continue;  // merged into their base weights
    Entry entry{info.name, info.name, false, info.shape};
    if (minicpmo) {
      const std::optional<model::ExportName> exported =
          model::hf_export_name(info.name, model::HfLayout::minicpmo);
      if (!exported) continue;
      entry.name = exported->name;
      entry.transpose = exported->transform == model::TensorTransform::transpose;
      if (entry.transpose) std::reverse(entry.shape.begin(), entry.shape.end());
      (entry.name.starts_with("v_head.") ? head : weights).push_back(entry);
      continue;
    }
    if (info.name != "score.bias") weights.push_back(entry);
    if (info.name == "score.weight")
      head.push_back({info.name, "v_head.summary.weight", false, info.shape});
    if (info.name == "score.bias")
      head.push_back({info.name, "v_head.summary.bias", false, info.shape});
  }
  std::optional<at::Tensor> positions;
  std::string positions_name;
  if (minicpmo && checkpoint.config().model.audio_layers > 0) {
    positions_name = model::hf_export_name("audio_tower.embed_positions", model::HfLayout::minicpmo)
                         .value_or(model::ExportName{"", model::TensorTransform::copy})
                         .name;
    if (!positions_name.empty()) {
      positions = audio_positions(checkpoint.config().model);
      weights.push_back({"", positions_name, false, positions->sizes().vec()});
    }
  }
  // The value of one entry: fp32, the adapters merged in.
  auto value = [&](const Entry& entry) {
    if (entry.source.empty()) return *positions;
    at::Tensor tensor = checkpoint.tensor(entry.source);
    const std::string projection = projection_of(entry.source);
    if (scaling != 0.0 && !projection.empty() && checkpoint.has(projection + ".lora_A.weight")) {
      const at::Tensor a = checkpoint.tensor(projection + ".lora_A.weight");  // [r, in]
      const at::Tensor b = checkpoint.tensor(projection + ".lora_B.weight");  // [out, r]
      tensor.add_(at::matmul(b, a) * scaling);
    }
    return entry.transpose ? tensor.t().contiguous() : tensor;
  };
  std::vector<io::TensorDescription> descriptions;
  for (const Entry& entry : weights) descriptions.push_back({entry.name, at::kFloat, entry.shape});
  io::ShardedSafetensorsWriter writer(out_dir, descriptions, max_shard_bytes, {{"format", "pt"}});
  for (const Entry& entry : weights) writer.write(value(entry));
  writer.finish();
  io::NamedTensors head_tensors;
  std::optional<double> bias;
  for (const Entry& entry : head) {
    at::Tensor tensor = value(entry);
    if (entry.source == "score.bias") bias = tensor.to(at::kDouble).item<double>();
    head_tensors.emplace_back(entry.name, tensor);
  }
  io::save_safetensors((fs::path(out_dir) / "value_head.safetensors").string(), head_tensors,
                       {{"format", "pt"}});
  return bias;
}

}  // namespace omnirm::train
