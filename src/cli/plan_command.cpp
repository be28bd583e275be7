// `omnirm plan`: per-rank memory by category for every ZeRO stage, whether each fits the GPUs
// and with what headroom, the smallest stage that fits, and the step and run time at a stated
// MFU, from a config (or from an HF config.json with --init-from) without building the model.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "omnirm/cli/commands.h"
#include "omnirm/core/error.h"
#include "omnirm/io/hf_config.h"
#include "omnirm/io/safetensors_checkpoint.h"
#include "omnirm/text/tokenizer.h"
#include "omnirm/train/plan.h"

namespace omnirm::cli {

namespace {

namespace fs = std::filesystem;

struct PlanOptions {
  ConfigOptions config;
  std::string init_from;
  int64_t gpus = 1;
  int64_t nodes = 1;
  std::string gpu_memory;
  double peak_tflops = 0.0;
  double mfu = 0.4;
  int64_t tokens_per_pair = 0;
  int64_t pairs = 0;
};

// The vocabulary: model.vocab_size, else the tokenizer's.
int64_t vocab_size_of(const Config& config) {
  if (config.model.vocab_size > 0) return config.model.vocab_size;
  if (config.data.tokenizer.empty()) {
    throw UserError(
        "plan: model.vocab_size is 0 and data.tokenizer is empty; set one of them (or use "
        "--init-from with a config.json)");
  }
  return text::Tokenizer::load(config.data.tokenizer).vocab_size();
}

// Training pairs per epoch: --pairs, else the records of data.train when it exists.
int64_t pairs_per_epoch(const PlanOptions& o, const Config& config) {
  if (o.pairs > 0) return o.pairs;
  if (config.data.train.empty() || !fs::is_regular_file(config.data.train)) return 0;
  std::ifstream in(config.data.train);
  int64_t lines = 0;
  std::string line;
  while (std::getline(in, line)) lines += line.find_first_not_of(" \t\r") != std::string::npos;
  return lines;
}

// "12.3 TFLOP", "76.8 PFLOP".
std::string flops(double value) {
  if (value >= 1e15) return fmt::format("{:.1f} PFLOP", value / 1e15);
  if (value >= 1e12) return fmt::format("{:.1f} TFLOP", value / 1e12);
  return fmt::format("{:.2f} GFLOP", value / 1e9);
}

std::string billions(int64_t n) { return fmt::format("{:.3f} B", double(n) / 1e9); }

std::string duration(double seconds) {
  if (seconds >= 3600.0) return fmt::format("{:.1f} h", seconds / 3600.0);
  if (seconds >= 60.0) return fmt::format("{:.1f} min", seconds / 60.0);
  return fmt::format("{:.2f} s", seconds);
}

void run_plan(const PlanOptions& o) {
  if (o.gpus < 1 || o.nodes < 1) throw UserError("plan: --gpus and --nodes must be at least 1");
  if (o.mfu <= 0.0 || o.mfu > 1.0) throw UserError("plan: --mfu must be in (0, 1]");
  Config config = load_config(o.config.path, o.config.overrides);
  std::string source = o.config.path.empty() ? "defaults" : o.config.path;
  if (!o.init_from.empty()) {
    config.model = io::load_hf_model_config(o.init_from, config.model);
    validate_config(config);
    source += " + " + (fs::path(o.init_from) / "config.json").string();
  }
  const int64_t world = o.gpus * o.nodes;
  const int64_t vocab = vocab_size_of(config);
  const train::ParameterCounts counts = train::count_parameters(config.model, config.lora, vocab);
  const int64_t tokens_per_pair =
      o.tokens_per_pair > 0 ? o.tokens_per_pair : config.data.max_length;
  const train::MemoryPlan plan = train::plan_memory(config, counts, world, tokens_per_pair);
  const double gpu_bytes =
      o.gpu_memory.empty() ? 0.0 : double(io::parse_byte_size(o.gpu_memory, "plan --gpu-memory"));

  fmt::print("plan: {} on {} rank(s) ({} node(s) x {} GPU(s){})\n", source, world, o.nodes, o.gpus,
             gpu_bytes > 0 ? ", " + train::format_mib(gpu_bytes) + " each" : "");
  fmt::print(
      "model: {} parameters, {} trainable, {} frozen (largest decoder layer {}); "
      "train.param_dtype {}, train.precision {}, activation checkpointing {}\n",
      billions(counts.total), billions(counts.trainable), billions(counts.frozen),
      billions(counts.largest_block), config.train.param_dtype, config.train.precision,
      config.train.activation_checkpointing > 0
          ? fmt::format("every {} block(s)", config.train.activation_checkpointing)
          : std::string("off"));
  const train::RowShape row = train::pair_rows(config, tokens_per_pair);
  fmt::print(
      "micro-batch: {} pair(s) of {} tokens ({} layout: {} row(s) of {}), {} tokens; {} pairs "
      "per optimizer step\n",
      config.train.micro_batch_pairs, tokens_per_pair,
      config.model.prefix_sharing ? "pair-prefix" : "two-sequence", row.rows, row.row_length,
      plan.tokens_per_micro_batch, config.train.global_batch_pairs);
  fmt::print("{:<6} {:<11} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}  {}\n", "stage",
             "optimizer", "parameters", "gradients", "master", "optimizer", "activations",
             "buffers", "total", "headroom", "fits");
  for (const train::StagePlan& s : plan.stages) {
    const train::MemoryCategories& b = s.bytes;
    const std::string headroom =
        gpu_bytes > 0 ? train::format_mib(gpu_bytes - b.total()) : std::string("-");
    const std::string fits =
        gpu_bytes > 0 ? (b.total() <= gpu_bytes ? "yes" : "no") : std::string("-");
    fmt::print("{:<6} {:<11} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}  {}\n",
               s.stage, s.sharded_optimizer ? "sharded" : "replicated",
               train::format_mib(b.parameters), train::format_mib(b.gradients),
               train::format_mib(b.master), train::format_mib(b.optimizer),
               train::format_mib(b.activations), train::format_mib(b.buffers),
               train::format_mib(b.total()), headroom, fits);
  }
  if (gpu_bytes > 0) {
    const train::StagePlan* fitting = plan.smallest_fitting(gpu_bytes);
    fmt::print("{}\n",
               fitting != nullptr
                   ? fmt::format("smallest stage that fits: {} (headroom {})", fitting->stage,
                                 train::format_mib(gpu_bytes - fitting->bytes.total()))
                   : std::string("no stage fits: add GPUs, lower train.micro_batch_pairs "
                                 "or data.max_length, or turn on activation "
                                 "checkpointing"));
  }
  const int64_t pairs = pairs_per_epoch(o, config);
  int64_t steps = config.train.max_steps;
  if (steps == 0 && pairs > 0) {
    steps = config.train.epochs *
            ((pairs + config.train.global_batch_pairs - 1) / config.train.global_batch_pairs);
  }
  const train::TimeEstimate time =
      train::estimate_time(config, counts, world, tokens_per_pair, o.peak_tflops, o.mfu, steps);
  std::string line = fmt::format("compute: {} per pair, {} per step", flops(time.flops_per_pair),
                                 flops(time.flops_per_step));
  if (o.peak_tflops > 0.0) {
    line += fmt::format("; at {:.0f}% MFU of {:.0f} TFLOP/s x {} GPU(s): {} per step",
                        100.0 * o.mfu, o.peak_tflops, world, duration(time.step_seconds));
    if (steps > 0) {
      line += fmt::format(", {} steps ({}): {}", steps,
                          config.train.max_steps > 0
                              ? std::string("train.max_steps")
                              : fmt::format("{} epoch(s) of {} pairs", config.train.epochs, pairs),
                          duration(time.run_seconds));
    }
  } else {
    line += " (give --peak-tflops for the time)";
  }
  fmt::print("{}\n", line);
  fmt::print(
      "notes: backbone FLOPs only (6 per trainable, 4 per frozen parameter per token, "
      "attention 12·L·D per query-key pair, +1 forward of checkpointed layers); the MFU is an "
      "assumption, not a measurement; the GPU's own reserve (CUDA context, allocator "
      "fragmentation) is not in the totals\n");
}

}  // namespace

void add_plan_command(CLI::App& app) {
  auto* command = app.add_subcommand(
      "plan",
      "Per-rank memory by category for ZeRO stages 0-3, whether the GPUs fit it, and the step "
      "and run time, from a config alone");
  auto options = std::make_shared<PlanOptions>();
  add_config_options(*command, options->config);
  command->add_option("--init-from", options->init_from,
                      "Take the model's shape from DIR/config.json (an HF or omnirm export "
                      "directory); nothing else is read");
  command->add_option("--gpus", options->gpus, "GPUs (ranks) per node")->capture_default_str();
  command->add_option("--nodes", options->nodes, "Nodes")->capture_default_str();
  command->add_option("--gpu-memory", options->gpu_memory,
                      "Memory per GPU: bytes, or 80GB (10^9), 80GiB (2^30), ...");
  command->add_option("--peak-tflops", options->peak_tflops,
                      "Peak dense TFLOP/s per GPU in the compute type (A100 bf16: 312, H100 "
                      "SXM: 989)");
  command->add_option("--mfu", options->mfu, "Model FLOPs utilisation assumed for the time")
      ->capture_default_str();
  command->add_option("--tokens-per-pair", options->tokens_per_pair,
                      "Packed tokens of one pair (prompt + chosen + rejected); default "
                      "data.max_length");
  command->add_option("--pairs", options->pairs,
                      "Training pairs per epoch for the run time; default: the records of "
                      "data.train when it exists");
  command->callback([options] { run_plan(*options); });
}

}  // namespace omnirm::cli
