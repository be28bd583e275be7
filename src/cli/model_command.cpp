// `omnirm model inspect PATH`: describes a Hugging Face checkpoint (a .safetensors file, an
// index.json or a directory) from its headers alone: the detected layout, the tensor count,
// parameters per dtype and per top-level prefix, how many tensors map onto omnirm's names,
// and with --names each tensor's mapping (HF name → omnirm name / ignored / unknown). A
// directory's config.json, when present, is read as omnirm would read it.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <map>

#include "omnirm/cli/commands.h"
#include "omnirm/core/error.h"
#include "omnirm/io/hf_checkpoint.h"
#include "omnirm/io/hf_config.h"
#include "omnirm/model/hf_names.h"

namespace omnirm::cli {

namespace {

struct InspectOptions {
  std::string path;
  bool names = false;
};

std::string human_count(int64_t count) {
  const double value = static_cast<double>(count);
  if (count >= 1'000'000'000) return fmt::format("{:.2f}B", value / 1e9);
  if (count >= 1'000'000) return fmt::format("{:.2f}M", value / 1e6);
  if (count >= 1'000) return fmt::format("{:.2f}K", value / 1e3);
  return std::to_string(count);
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

const char* transform_note(model::TensorTransform transform) {
  switch (transform) {
    case model::TensorTransform::copy:
      return "";
    case model::TensorTransform::transpose:
      return " (transposed)";
    case model::TensorTransform::position_grid:
      return " (position grid resampled)";
    case model::TensorTransform::leading_rows:
      return " (leading rows)";
  }
  return "";
}

void print_counts(const std::string& title, const std::map<std::string, int64_t>& counts) {
  fmt::print("{}:\n", title);
  size_t width = 0;
  for (const auto& [key, count] : counts) width = std::max(width, key.size());
  for (const auto& [key, count] : counts)
    fmt::print("  {:<{}}  {:>14}  ({})\n", key, width, count, human_count(count));
}

// The shape-relevant fields of the directory's config.json, or why it cannot be used.
void print_config(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::is_directory(path) ? fs::path(path) : fs::path(path).parent_path();
  const fs::path file = dir / "config.json";
  if (!fs::is_regular_file(file)) return;
  try {
    const ModelConfig m = io::load_hf_model_config(file.string());
    fmt::print(
        "config.json: hidden {}, layers {}, heads {}/{} (q/kv), intermediate {}, vocab {}, "
        "qkv bias {}, vision layers {}, audio layers {}\n",
        m.hidden_size, m.num_layers, m.num_heads, m.num_kv_heads, m.intermediate_size, m.vocab_size,
        m.qkv_bias ? "yes" : "no", m.vision_layers, m.audio_layers);
  } catch (const UserError& error) {
    fmt::print("config.json: not usable: {}\n", error.what());
  }
}

void inspect(const InspectOptions& options) {
  const std::vector<std::string> files = io::hf_weight_files(options.path);
  const std::vector<io::TensorHeader> tensors = io::read_hf_checkpoint_headers(options.path);
  std::vector<std::string> names;
  for (const auto& tensor : tensors) names.push_back(tensor.name);
  const model::DetectedLayout layout = model::detect_hf_layout(names);

  std::map<std::string, int64_t> by_dtype, by_prefix;
  int64_t total = 0;
  for (const auto& tensor : tensors) {
    by_dtype[tensor.dtype] += tensor.numel();
    by_prefix[tensor.name.substr(0, tensor.name.find('.'))] += tensor.numel();
    total += tensor.numel();
  }
  fmt::print("checkpoint: {} ({} file{})\n", options.path, files.size(),
             files.size() == 1 ? "" : "s");
  fmt::print("layout: {}\n", layout.description());
  fmt::print("tensors: {}\n", tensors.size());
  fmt::print("parameters: {} ({})\n", total, human_count(total));
  print_counts("parameters by dtype", by_dtype);
  print_counts("parameters by prefix", by_prefix);
  print_config(options.path);

  int mapped = 0, ignored = 0, unknown = 0;
  for (const auto& tensor : tensors) {
    const model::NameMapping mapping = model::map_hf_name(tensor.name, layout.layout);
    if (mapping.status == model::NameStatus::mapped) ++mapped;
    if (mapping.status == model::NameStatus::ignored) ++ignored;
    if (mapping.status == model::NameStatus::unknown) ++unknown;
    if (!options.names) continue;
    const std::string what =
        fmt::format("{} {} {}", tensor.name, shape_text(tensor.shape), tensor.dtype);
    switch (mapping.status) {
      case model::NameStatus::mapped:
        fmt::print("  {} -> {}{}\n", what, mapping.target, transform_note(mapping.transform));
        break;
      case model::NameStatus::ignored:
        fmt::print("  {} -> ignored: {}\n", what, mapping.reason);
        break;
      case model::NameStatus::unknown:
        fmt::print("  {} -> unknown: {}\n", what, mapping.reason);
        break;
    }
  }
  fmt::print("mapping: {} mapped, {} ignored, {} unknown\n", mapped, ignored, unknown);
}

}  // namespace

void add_model_command(CLI::App& app) {
  auto* command = app.add_subcommand("model", "Model checkpoint tools: inspect");
  command->require_subcommand(1);
  auto* inspect_command = command->add_subcommand(
      "inspect", "Describe an HF checkpoint: layout, tensors, parameters, name mapping");
  auto options = std::make_shared<InspectOptions>();
  inspect_command
      ->add_option("path", options->path,
                   "A .safetensors file, a model.safetensors.index.json or a directory")
      ->required();
  inspect_command->add_flag("--names", options->names,
                            "List every tensor with its omnirm name (or why it has none)");
  inspect_command->callback([options] { inspect(*options); });
}

}  // namespace omnirm::cli
