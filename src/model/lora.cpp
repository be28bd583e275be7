// Implementation of model/lora.h.
#include "omnirm/model/lora.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "omnirm/core/error.h"
#include "omnirm/model/projection.h"

namespace omnirm::model {

namespace {

const std::vector<std::string> kProjections = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                               "gate_proj", "up_proj", "down_proj"};

// The last component of a dotted module name.
std::string leaf_name(const std::string& name) {
  const auto dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(dot + 1);
}

// Every projection of the backbone's decoder layers with its full module name.
std::vector<std::pair<std::string, ProjectionImpl*>> backbone_projections(RewardModelImpl& model) {
  std::vector<std::pair<std::string, ProjectionImpl*>> out;
  for (const auto& item : model.named_modules()) {
    if (!item.key().starts_with("model.layers.")) continue;
    if (auto* projection = item.value()->as<ProjectionImpl>()) {
      out.emplace_back(item.key(), projection);
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> lora_target_modules(const LoraConfig& lora) {
  if (lora.target_modules == "all") return kProjections;
  std::vector<std::string> chosen;
  for (const std::string& name : kProjections) {
    std::string_view rest = lora.target_modules;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      if (item == name) chosen.push_back(name);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  return chosen;
}

int64_t apply_lora(RewardModelImpl& model, const LoraConfig& lora) {
  if (lora.rank <= 0) throw UserError("lora.rank must be positive to add adapters");
  for (at::Tensor& p : model.parameters()) p.set_requires_grad(false);
  const std::vector<std::string> targets = lora_target_modules(lora);
  int64_t adapted = 0;
  for (const auto& [name, projection] : backbone_projections(model)) {
    if (std::find(targets.begin(), targets.end(), leaf_name(name)) == targets.end()) continue;
    projection->add_adapter(lora.rank, lora.alpha, lora.dropout);
    ++adapted;
  }
  for (auto& item : model.named_parameters()) {
    if (item.key().starts_with("score.")) item.value().set_requires_grad(true);
  }
  return adapted;
}

bool is_lora_parameter(const std::string& name) {
  return name.find(".lora_A.") != std::string::npos || name.find(".lora_B.") != std::string::npos;
}

bool has_lora(RewardModelImpl& model) {
  for (const auto& [name, projection] : backbone_projections(model)) {
    if (projection->has_adapter()) return true;
  }
  return false;
}

void merge_lora(RewardModelImpl& model) {
  for (const auto& [name, projection] : backbone_projections(model)) {
    if (projection->has_adapter()) projection->merge_adapter();
  }
}

std::vector<std::pair<std::string, at::Tensor>> peft_adapter_tensors(RewardModelImpl& model) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& item : model.named_parameters()) {
    const std::string& name = item.key();
    if (is_lora_parameter(name) || name.starts_with("score.")) {
      out.emplace_back("base_model.model." + name, item.value().detach());
    }
  }
  return out;
}

}  // namespace omnirm::model
