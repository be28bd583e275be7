// Implementation of train/model_weights.h.
#include "omnirm/train/model_weights.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <vector>

#include "omnirm/core/error.h"
#include "omnirm/io/hf_checkpoint.h"
#include "omnirm/io/safetensors.h"
#include "omnirm/io/safetensors_checkpoint.h"
#include "omnirm/model/hf_weights.h"
#include "omnirm/model/lora.h"

namespace omnirm::train {

namespace fs = std::filesystem;

bool is_export_dir(const std::string& dir) {
  return fs::exists(fs::path(dir) / "omnirm.yaml") &&
         (fs::exists(fs::path(dir) / "model.safetensors") ||
          fs::exists(fs::path(dir) / "model.safetensors.index.json"));
}

WeightMap read_weight_file(const std::string& safetensors_path) {
  WeightMap weights;
  for (auto& [name, tensor] : io::load_safetensors(safetensors_path).tensors) {
    weights[name] = std::move(tensor);
  }
  return weights;
}

WeightMap read_export_weights(const std::string& dir) {
  // One model.safetensors, or shards listed in model.safetensors.index.json; the tensors are
  // views of the mapped files until they are copied into a model.
  WeightMap weights;
  for (auto& [name, tensor] : io::read_safetensors_checkpoint(dir).tensors) {
    weights[name] = std::move(tensor);
  }
  const fs::path head_file = fs::path(dir) / "value_head.safetensors";
  if (fs::exists(head_file)) {
    for (auto& [name, tensor] : read_weight_file(head_file.string())) {
      if (name == "v_head.summary.weight") weights["score.weight"] = tensor.reshape({1, -1});
      if (name == "v_head.summary.bias") weights["score.bias"] = tensor.reshape({1});
    }
  }
  return weights;
}

void copy_weights(WeightMap weights, model::RewardModelImpl& model, const std::string& origin,
                  bool adapters_optional, const std::string& hint) {
  std::vector<std::string> missing, mismatched;
  at::NoGradGuard no_grad;
  for (auto& item : model.named_parameters()) {
    const auto found = weights.find(item.key());
    if (found == weights.end()) {
      if (!(adapters_optional && model::is_lora_parameter(item.key())))
        missing.push_back(item.key());
      continue;
    }
    if (found->second.sizes() != item.value().sizes()) {
      mismatched.push_back(fmt::format("{} (file {}, model {})", item.key(),
                                       fmt::join(found->second.sizes().vec(), "x"),
                                       fmt::join(item.value().sizes().vec(), "x")));
    } else {
      item.value().copy_(found->second);
    }
    weights.erase(found);
  }
  if (missing.empty() && weights.empty() && mismatched.empty()) return;
  std::vector<std::string> unexpected;
  for (const auto& [name, tensor] : weights) unexpected.push_back(name);
  throw UserError(fmt::format(
      "{}: weights do not match the model: missing [{}], unexpected [{}], wrong shape [{}]; {}",
      origin, fmt::join(missing, ", "), fmt::join(unexpected, ", "), fmt::join(mismatched, ", "),
      hint));
}

bool is_minicpmo_export(const std::string& dir) {
  std::vector<std::string> names;
  for (const io::TensorHeader& header : io::read_hf_checkpoint_headers(dir))
    names.push_back(header.name);
  return model::detect_hf_layout(names).layout == model::HfLayout::minicpmo;
}

void load_export_weights(const std::string& dir, model::RewardModelImpl& model,
                         const std::string& origin, bool adapters_optional,
                         const std::string& hint) {
  if (!is_minicpmo_export(dir)) {
    copy_weights(read_export_weights(dir), model, origin, adapters_optional, hint);
    return;
  }
  // The name mapping, transforms and shape checks of model/hf_weights.h; buffers (Whisper's
  // positions) are filled too.
  model::HfLoadReport report;
  try {
    report = model::load_hf_weights(model, io::load_hf_checkpoint(dir));
  } catch (const UserError& error) {  // a shape that does not fit
    throw UserError(fmt::format("{}: {}; {}", origin, error.what(), hint));
  }
  std::erase_if(report.missing, [&](const std::string& name) {
    return adapters_optional && model::is_lora_parameter(name);
  });
  if (report.missing.empty() && report.unexpected.empty()) return;
  std::vector<std::string> unexpected;
  for (const auto& [name, why] : report.unexpected) unexpected.push_back(name + " (" + why + ")");
  throw UserError(
      fmt::format("{}: weights do not match the model: missing [{}], unexpected [{}]; {}", origin,
                  fmt::join(report.missing, ", "), fmt::join(unexpected, ", "), hint));
}

}  // namespace omnirm::train
