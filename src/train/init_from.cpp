// Implementation of train/init_from.h.
#include "omnirm/train/init_from.h"

#include <ATen/ATen.h>
#include <filesystem>

#include "omnirm/core/error.h"
#include "omnirm/model/lora.h"
#include "omnirm/text/tokenizer.h"
#include "omnirm/train/checkpoint.h"
#include "omnirm/train/model_weights.h"

namespace omnirm::train {

namespace fs = std::filesystem;

namespace {

// The weights of a checkpoint or run directory, adapters merged.
WeightMap checkpoint_weights(const std::string& dir) {
  LoadedModel loaded = load_model_dir(dir);
  model::merge_lora(*loaded.model);
  WeightMap weights;
  for (const auto& item : loaded.model->named_parameters()) {
    weights[item.key()] = item.value().detach();
  }
  return weights;
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
  if (is_export_dir(source)) {
    resolved.model = load_config((fs::path(source) / "omnirm.yaml").string()).model;
    tokenizer_file = text::checkpoint_tokenizer_file(source);
  } else {
    std::string dir = source;
    if (!fs::exists(fs::path(source) / "model.safetensors")) {
      const auto latest = latest_checkpoint(source);
      if (!latest) {
        throw UserError("train.init_from: " + source +
                        " holds neither an export (omnirm.yaml + model.safetensors) nor "
                        "checkpoints; pass an `omnirm export` directory or a checkpoint");
      }
      dir = *latest;
    }
    resolved.model = load_config((fs::path(dir) / "config.yaml").string()).model;
    tokenizer_file = text::checkpoint_tokenizer_file(dir);
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

void load_initial_weights(model::RewardModelImpl& model, const std::string& source) {
  copy_weights(is_export_dir(source) ? read_export_weights(source) : checkpoint_weights(source),
               model, "train.init_from " + source, /*adapters_optional=*/true,
               "a different data.tokenizer changes the vocabulary size; leave it empty to use "
               "the source's");
}

}  // namespace omnirm::train
