// Moving weights between Hugging Face layouts (model/hf_names.h) and an omnirm model. Loading
// copies every mapped file tensor into the model's parameter or buffer of the mapped name
// (casting to its dtype and device), checks every shape before it copies anything, and
// reports by name what was loaded, which model parameters no tensor filled, which file
// tensors found no place, and which were ignored on purpose.
#pragma once

#include <ATen/Tensor.h>
#include <torch/nn/module.h>

#include <string>
#include <utility>
#include <vector>

#include "omnirm/model/hf_names.h"

namespace omnirm::model {

// (name, tensor) as read from safetensors files; the same type as io::NamedTensors.
using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

struct HfLoadReport {
  DetectedLayout layout;
  std::vector<std::string> loaded;   // omnirm names filled, in file order
  std::vector<std::string> missing;  // model parameters no file tensor filled
  // (file name, why): unknown names, and names that map to a tensor the model lacks.
  std::vector<std::pair<std::string, std::string>> unexpected;
  std::vector<std::pair<std::string, std::string>> ignored;  // (file name, why)
  // "loaded N, missing M, unexpected U, ignored I" with the first few names of each.
  std::string summary() const;
};

// Loads `tensors` (the union of a checkpoint's files: any dtype, CPU) into `model`. The
// layout is detected from the names. A tensor whose shape does not fit its target, after
// its transform, is refused (UserError naming both names and shapes) before any copy; so
// are two file tensors with different values for one target.
HfLoadReport load_hf_weights(torch::nn::Module& model, const NamedTensors& tensors);

// Same with the layout given (detection skipped).
HfLoadReport load_hf_weights(torch::nn::Module& model, const NamedTensors& tensors,
                             const DetectedLayout& layout);

// The model's parameters and buffers under their `layout` names (hf_export_name), values
// transformed for that layout (CPU, contiguous, the model's dtypes); tensors the layout has
// no place for are left out.
NamedTensors to_hf_tensors(torch::nn::Module& model, HfLayout layout);

}  // namespace omnirm::model
