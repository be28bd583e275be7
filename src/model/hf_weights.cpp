// Implementation of model/hf_weights.h.
#include "omnirm/model/hf_weights.h"

#include <ATen/ATen.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "omnirm/core/error.h"

namespace omnirm::model {

namespace {

std::string shape_text(at::IntArrayRef shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

// The side of a square count, or 0 when `count` is not a square.
int64_t square_side(int64_t count) {
  const auto side = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(count))));
  return side * side == count ? side : 0;
}

// source [G², D] → [s², D]: row (i, j) of the s×s grid takes row (⌊i·G/s⌋, ⌊j·G/s⌋).
at::Tensor resample_position_grid(const at::Tensor& source, int64_t grid, int64_t side) {
  std::vector<int64_t> rows;
  rows.reserve(static_cast<size_t>(side * side));
  for (int64_t i = 0; i < side; ++i)
    for (int64_t j = 0; j < side; ++j) rows.push_back((i * grid / side) * grid + j * grid / side);
  return source.index_select(0, at::tensor(rows, at::kLong));
}

// The file tensor transformed to `target`'s shape, or undefined when it cannot fit.
at::Tensor fit_to_target(const at::Tensor& source, const at::Tensor& target,
                         TensorTransform transform) {
  if (transform == TensorTransform::transpose) {
    if (source.dim() != 2) return {};
    at::Tensor transposed = source.t();
    return transposed.sizes() == target.sizes() ? transposed : at::Tensor();
  }
  if (source.sizes() == target.sizes()) return source;
  const bool same_rows_width =
      source.dim() == 2 && target.dim() == 2 && source.size(1) == target.size(1);
  if (transform == TensorTransform::position_grid && same_rows_width) {
    const int64_t grid = square_side(source.size(0));
    const int64_t side = square_side(target.size(0));
    if (grid > 0 && side > 0 && side <= grid) return resample_position_grid(source, grid, side);
  }
  if (transform == TensorTransform::leading_rows && same_rows_width &&
      target.size(0) <= source.size(0))
    return source.narrow(0, 0, target.size(0));
  return {};
}

std::string first_names(const std::vector<std::string>& names) {
  std::string text;
  const size_t shown = std::min<size_t>(names.size(), 3);
  for (size_t i = 0; i < shown; ++i) text += (i ? ", " : "") + names[i];
  if (names.size() > shown) text += ", ...";
  return text;
}

std::vector<std::string> first_of(const std::vector<std::pair<std::string, std::string>>& items) {
  std::vector<std::string> names;
  for (const auto& item : items) names.push_back(item.first);
  return names;
}

}  // namespace

std::string HfLoadReport::summary() const {
  std::ostringstream text;
  text << "loaded " << loaded.size() << ", missing " << missing.size();
  if (!missing.empty()) text << " (" << first_names(missing) << ")";
  text << ", unexpected " << unexpected.size();
  if (!unexpected.empty()) text << " (" << first_names(first_of(unexpected)) << ")";
  text << ", ignored " << ignored.size();
  if (!ignored.empty()) text << " (" << first_names(first_of(ignored)) << ")";
  return text.str();
}

HfLoadReport load_hf_weights(torch::nn::Module& model, const NamedTensors& tensors) {
  std::vector<std::string> names;
  names.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) names.push_back(name);
  return load_hf_weights(model, tensors, detect_hf_layout(names));
}

HfLoadReport load_hf_weights(torch::nn::Module& model, const NamedTensors& tensors,
                             const DetectedLayout& layout) {
  HfLoadReport report;
  report.layout = layout;
  std::map<std::string, at::Tensor> targets;
  for (const auto& item : model.named_parameters()) targets.emplace(item.key(), item.value());
  for (const auto& item : model.named_buffers()) targets.emplace(item.key(), item.value());

  struct Planned {
    std::string file_name;
    std::string target;
    at::Tensor value;  // already in the target's shape
  };
  std::vector<Planned> plan;
  std::map<std::string, size_t> planned_target;  // target → index in plan
  std::vector<std::string> shape_errors;
  for (const auto& [name, tensor] : tensors) {
    const NameMapping mapping = map_hf_name(name, layout.layout);
    if (mapping.status == NameStatus::ignored) {
      report.ignored.emplace_back(name, mapping.reason);
      continue;
    }
    if (mapping.status == NameStatus::unknown) {
      report.unexpected.emplace_back(name, mapping.reason);
      continue;
    }
    auto target = targets.find(mapping.target);
    if (target == targets.end()) {
      report.unexpected.emplace_back(
          name, "maps to " + mapping.target + ", which this model does not have");
      continue;
    }
    at::Tensor value = fit_to_target(tensor, target->second, mapping.transform);
    if (!value.defined() && !mapping.mismatch_reason.empty()) {
      report.unexpected.emplace_back(name, mapping.mismatch_reason + " (file " +
                                               shape_text(tensor.sizes()) + ", model " +
                                               shape_text(target->second.sizes()) + ")");
      continue;
    }
    if (!value.defined()) {
      shape_errors.push_back("'" + name + "' (→ " + mapping.target + ") has shape " +
                             shape_text(tensor.sizes()) + ", the model's is " +
                             shape_text(target->second.sizes()));
      continue;
    }
    auto earlier = planned_target.find(mapping.target);
    if (earlier != planned_target.end()) {
      const Planned& first = plan[earlier->second];
      if (!at::equal(first.value.to(at::kDouble), value.to(at::kDouble)))
        throw UserError("hf weights: '" + first.file_name + "' and '" + name + "' both map to " +
                        mapping.target +
                        " with different values; keep only one of the files that hold them");
      report.ignored.emplace_back(name, "same values as " + first.file_name);
      continue;
    }
    planned_target.emplace(mapping.target, plan.size());
    plan.push_back({name, mapping.target, value});
  }
  if (!shape_errors.empty()) {
    std::string more =
        shape_errors.size() > 1
            ? " (and " + std::to_string(shape_errors.size() - 1) + " more tensors that disagree)"
            : "";
    throw UserError("hf weights: " + shape_errors.front() + more +
                    "; make the model config match the checkpoint (read it from its "
                    "config.json)");
  }
  {
    torch::NoGradGuard no_grad;
    for (const Planned& item : plan) {
      targets.at(item.target).copy_(item.value);
      report.loaded.push_back(item.target);
    }
  }
  for (const auto& item : model.named_parameters())
    if (!planned_target.count(item.key())) report.missing.push_back(item.key());
  return report;
}

NamedTensors to_hf_tensors(torch::nn::Module& model, HfLayout layout) {
  NamedTensors out;
  auto add = [&](const std::string& name, const at::Tensor& tensor) {
    const std::optional<ExportName> export_name = hf_export_name(name, layout);
    if (!export_name) return;
    at::Tensor value = tensor.detach().to(at::kCPU);
    if (export_name->transform == TensorTransform::transpose) value = value.t();
    out.emplace_back(export_name->name, value.contiguous().clone());
  };
  for (const auto& item : model.named_parameters()) add(item.key(), item.value());
  for (const auto& item : model.named_buffers()) add(item.key(), item.value());
  return out;
}

}  // namespace omnirm::model
