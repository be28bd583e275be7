// Implementation of infer/model_weights.h.
#include "omnirm/infer/model_weights.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <optional>
#include <vector>

#include "omnirm/core/error.h"
#include "omnirm/io/hf_checkpoint.h"
#include "omnirm/io/safetensors.h"
#include "omnirm/io/safetensors_checkpoint.h"
#include "omnirm/model/hf_weights.h"
#include "omnirm/model/lora.h"

namespace omnirm::infer {

namespace fs = std::filesystem;

namespace {

// What did not fit when named weights were loaded into a model.
struct WeightReport {
  std::vector<std::string> missing;     // model parameters no tensor filled
  std::vector<std::string> unexpected;  // tensors with no place in the model
  // "name (file AxB, model CxD)" for each tensor whose shape is not its parameter's: set by
  // copy_weights, whose message lists them (even none); load_hf_weights refuses a bad shape
  // itself, so an export in MiniCPM-o's layout leaves this unset.
  std::optional<std::vector<std::string>> wrong_shape;
};

// Throws the UserError "<origin>: weights do not match the model: missing [...], unexpected
// [...](, wrong shape [...]); <hint>" unless `report` is empty once LoRA adapters are dropped
// from its missing names (when `adapters_optional`).
void throw_if_mismatched(WeightReport report, const std::string& origin, bool adapters_optional,
                         const std::string& hint) {
  std::erase_if(report.missing, [&](const std::string& name) {
    return adapters_optional && model::is_lora_parameter(name);
  });
  const bool shapes_fit = !report.wrong_shape || report.wrong_shape->empty();
  if (report.missing.empty() && report.unexpected.empty() && shapes_fit) return;
  const std::string wrong_shape =
      report.wrong_shape ? fmt::format(", wrong shape [{}]", fmt::join(*report.wrong_shape, ", "))
                         : "";
  throw UserError(fmt::format(
      "{}: weights do not match the model: missing [{}], unexpected [{}]{}; {}", origin,
      fmt::join(report.missing, ", "), fmt::join(report.unexpected, ", "), wrong_shape, hint));
}

}  // namespace

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
  WeightReport report;
  report.wrong_shape.emplace();
  at::NoGradGuard no_grad;
  for (auto& item : model.named_parameters()) {
    const auto found = weights.find(item.key());
    if (found == weights.end()) {
      report.missing.push_back(item.key());
      continue;
    }
    if (found->second.sizes() != item.value().sizes()) {
      report.wrong_shape->push_back(fmt::format("{} (file {}, model {})", item.key(),
                                                fmt::join(found->second.sizes().vec(), "x"),
                                                fmt::join(item.value().sizes().vec(), "x")));
    } else {
      item.value().copy_(found->second);
    }
    weights.erase(found);
  }
  for (const auto& [name, tensor] : weights) report.unexpected.push_back(name);
  throw_if_mismatched(std::move(report), origin, adapters_optional, hint);
}

void load_model_weights(const std::string& safetensors_path, model::RewardModelImpl& model) {
  copy_weights(read_weight_file(safetensors_path), model, safetensors_path,
               /*adapters_optional=*/false, "check model.* in the config matches the checkpoint");
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
  model::HfLoadReport hf_report;
  try {
    hf_report = model::load_hf_weights(model, io::load_hf_checkpoint(dir));
  } catch (const UserError& error) {  // a shape that does not fit
    throw UserError(fmt::format("{}: {}; {}", origin, error.what(), hint));
  }
  WeightReport report;
  report.missing = std::move(hf_report.missing);
  for (const auto& [name, why] : hf_report.unexpected)
    report.unexpected.push_back(name + " (" + why + ")");
  throw_if_mismatched(std::move(report), origin, adapters_optional, hint);
}

}  // namespace omnirm::infer
