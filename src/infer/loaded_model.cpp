// Implementation of infer/loaded_model.h.
#include "omnirm/infer/loaded_model.h"

#include <fmt/format.h>

#include <filesystem>
#include <optional>

#include "omnirm/core/error.h"
#include "omnirm/infer/checkpoint_dirs.h"
#include "omnirm/infer/model_weights.h"
#include "omnirm/model/lora.h"

namespace omnirm::infer {

namespace fs = std::filesystem;

int64_t model_vocab_size(const ModelConfig& config, const text::Tokenizer& tokenizer) {
  if (config.vocab_size == 0) return tokenizer.vocab_size();
  if (config.vocab_size < tokenizer.vocab_size()) {
    throw UserError(fmt::format("model.vocab_size: {} is smaller than the tokenizer's {} pieces",
                                config.vocab_size, tokenizer.vocab_size()));
  }
  return config.vocab_size;
}

LoadedModel load_model_dir(const std::string& path) {
  if (is_export_dir(path)) {
    LoadedModel loaded{path, load_config((fs::path(path) / "omnirm.yaml").string()),
                       text::Tokenizer::load(text::checkpoint_tokenizer_file(path)), nullptr};
    loaded.config.lora = LoraConfig{};  // an export is merged
    loaded.model = model::RewardModel(loaded.config.model,
                                      model_vocab_size(loaded.config.model, loaded.tokenizer));
    load_export_weights(path, *loaded.model, path, /*adapters_optional=*/false,
                        "the export directory is incomplete or was edited; export it again");
    loaded.model->eval();
    return loaded;
  }
  const std::optional<std::string> found = checkpoint_dir_in(path);
  if (!found) {
    throw UserError(path +
                    ": neither a checkpoint (no model.safetensors), an export directory nor "
                    "a run directory with checkpoints; pass a checkpoints/step-N directory");
  }
  const std::string& dir = *found;
  const fs::path root(dir);
  LoadedModel loaded{dir, load_config((root / "config.yaml").string()),
                     text::Tokenizer::load(text::checkpoint_tokenizer_file(dir)), nullptr};
  loaded.model = model::RewardModel(loaded.config.model,
                                    model_vocab_size(loaded.config.model, loaded.tokenizer));
  if (loaded.config.lora.rank > 0) model::apply_lora(*loaded.model, loaded.config.lora);
  load_model_weights((root / "model.safetensors").string(), *loaded.model);
  loaded.model->eval();
  return loaded;
}

}  // namespace omnirm::infer
