// Implementation of train/init_from.h.
#include "omnirm/train/init_from.h"

#include <ATen/ATen.h>
#include <algorithm>
#include <filesystem>

#include "omnirm/core/error.h"
#include "omnirm/infer/loaded_model.h"
#include "omnirm/infer/model_weights.h"
#include "omnirm/io/hf_checkpoint.h"
#include "omnirm/io/hf_config.h"
#include "omnirm/model/hf_weights.h"
#include "omnirm/model/lora.h"
#include "omnirm/text/tokenizer.h"
#include "omnirm/train/checkpoint.h"

namespace omnirm::train {

namespace fs = std::filesystem;

namespace {

// The weights of a checkpoint or run directory, adapters merged.
infer::WeightMap checkpoint_weights(const std::string& dir) {
  infer::LoadedModel loaded = infer::load_model_dir(dir);
  model::merge_lora(*loaded.model);
  infer::WeightMap weights;
  for (const auto& item : loaded.model->named_parameters()) {
    weights[item.key()] = item.value().detach();
  }
  return weights;
}

// A Hugging Face checkpoint directory: a config.json, and neither omnirm's export nor its
// checkpoint files.
bool is_hf_dir(const std::string& dir) {
  return fs::exists(fs::path(dir) / "config.json") && !infer::is_export_dir(dir) &&
         !fs::exists(fs::path(dir) / "config.yaml");
}

std::string load_hf_initial_weights(model::RewardModelImpl& model, const std::string& source) {
  const model::HfLoadReport report = model::load_hf_weights(model, io::load_hf_checkpoint(source));
  const bool backbone_missing =
      std::any_of(report.missing.begin(), report.missing.end(), [](const std::string& name) {
        return name.starts_with("model.") && !model::is_lora_parameter(name);
      });
  if (backbone_missing) {
    throw UserError("train.init_from " + source + ": the checkpoint does not fill the backbone (" +
                    report.summary() + "); check that its config.json belongs to these weights");
  }
  return report.summary();
}

}  // namespace

Config resolve_init_from(const Config& config) {
  const std::string& source = config.train.init_from;
  if (source.empty()) return config;
  if (!fs::is_directory(source)) {
    throw UserError("train.init_from: " + source +
                    " is not a directory; pass an `omnirm export` directory or a checkpoint");
  }
  Config resolved = config;
  std::string tokenizer_file;
  if (infer::is_export_dir(source)) {
    resolved.model = load_config((fs::path(source) / "omnirm.yaml").string()).model;
    tokenizer_file = text::checkpoint_tokenizer_file(source);
  } else if (is_hf_dir(source)) {
    resolved.model = io::load_hf_model_config(source, config.model);
    tokenizer_file = text::checkpoint_tokenizer_file(source);
  } else {
    const std::optional<std::string> dir = checkpoint_dir_in(source);
    if (!dir) {
      throw UserError("train.init_from: " + source +
                      " holds neither an export (omnirm.yaml + model.safetensors) nor "
                      "checkpoints; pass an `omnirm export` directory or a checkpoint");
    }
    resolved.model = load_config((fs::path(*dir) / "config.yaml").string()).model;
    tokenizer_file = text::checkpoint_tokenizer_file(*dir);
  }
  // Training choices that are not part of the weights stay the user's.
  resolved.model.attention_backend = config.model.attention_backend;
  resolved.model.prefix_sharing = config.model.prefix_sharing;
  resolved.model.head_dropout = config.model.head_dropout;
  resolved.model.freeze_vision = config.model.freeze_vision;
  resolved.model.freeze_audio = config.model.freeze_audio;
  resolved.model.freeze_points = config.model.freeze_points;
  if (resolved.data.tokenizer.empty()) resolved.data.tokenizer = tokenizer_file;
  return resolved;
}

std::string load_initial_weights(model::RewardModelImpl& model, const std::string& source) {
  if (is_hf_dir(source)) return load_hf_initial_weights(model, source);
  const std::string origin = "train.init_from " + source;
  const std::string hint =
      "a different data.tokenizer changes the vocabulary size; leave it empty to use the "
      "source's";
  if (infer::is_export_dir(source)) {
    infer::load_export_weights(source, model, origin, /*adapters_optional=*/true, hint);
  } else {
    infer::copy_weights(checkpoint_weights(source), model, origin, /*adapters_optional=*/true,
                        hint);
  }
  return "every weight";
}

}  // namespace omnirm::train
