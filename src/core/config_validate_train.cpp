// Validation of the sections the trainer reads (config_checks.h): train, lora and eval.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "config_checks.h"
#include "config_schema.h"

namespace omnirm::config_checks {

void validate_train(const TrainConfig& train) {
  require(!train.output_dir.empty(), "train.output_dir must not be empty");
  require_positive("train.epochs", train.epochs);
  require_non_negative("train.max_steps", train.max_steps);
  require_positive("train.global_batch_pairs", train.global_batch_pairs);
  require_positive("train.micro_batch_pairs", train.micro_batch_pairs);
  require(train.global_batch_pairs % train.micro_batch_pairs == 0,
          fmt::format("train.global_batch_pairs ({}) must be divisible by "
                      "train.micro_batch_pairs ({})",
                      train.global_batch_pairs, train.micro_batch_pairs));
  require_positive_number("train.lr", train.lr);
  require_fraction("train.min_lr_ratio", train.min_lr_ratio, /*one_allowed=*/true);
  require_fraction("train.warmup_ratio", train.warmup_ratio, /*one_allowed=*/false);
  require_non_negative_number("train.weight_decay", train.weight_decay);
  require_fraction("train.adam_beta1", train.adam_beta1, /*one_allowed=*/false);
  require_fraction("train.adam_beta2", train.adam_beta2, /*one_allowed=*/false);
  require_positive_number("train.adam_eps", train.adam_eps);
  require_non_negative_number("train.max_grad_norm", train.max_grad_norm);
  require(std::isfinite(train.margin_scale),
          fmt::format("train.margin_scale must be a finite number, got {}", train.margin_scale));
  require_non_negative_number("train.centering", train.centering);
  require_positive("train.log_every", train.log_every);
  require_non_negative("train.eval_every", train.eval_every);
  require_one_of("train.eval_benchmark_format", train.eval_benchmark_format,
                 {"omni-rewardbench", "vl-rewardbench", "multimodal-rewardbench", "rewardbench"});
  require(train.best_metric.starts_with("eval/") || train.best_metric.starts_with("bench/"),
          fmt::format("train.best_metric must name an evaluation metric (eval/... or bench/...), "
                      "got '{}'",
                      train.best_metric));
  require_one_of("train.best_mode", train.best_mode, {"max", "min"});
  require_non_negative("train.save_every", train.save_every);
  require_positive("train.keep_last", train.keep_last);
  require_non_negative("train.threads", train.threads);
  require_one_of("train.device", train.device, {"auto", "cpu", "cuda"});
  require_one_of("train.precision", train.precision, {"fp32", "bf16", "fp16"});
  require_non_negative("train.activation_checkpointing", train.activation_checkpointing);
  require_one_of("train.param_dtype", train.param_dtype, {"fp32", "bf16"});
  require_non_negative_number("train.memory_budget_mb", train.memory_budget_mb);
}

void validate_lora(const LoraConfig& lora) {
  require_non_negative("lora.rank", lora.rank);
  require_positive_number("lora.alpha", lora.alpha);
  require_fraction("lora.dropout", lora.dropout, /*one_allowed=*/false);
  if (lora.target_modules == "all") return;
  static const std::vector<std::string> kTargets = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                                    "gate_proj", "up_proj", "down_proj"};
  std::string_view rest = lora.target_modules;
  require(!rest.empty(),
          "lora.target_modules must not be empty; write \"all\" or a list such "
          "as \"q_proj,v_proj\"");
  while (true) {
    const std::size_t comma = rest.find(',');
    std::string name(rest.substr(0, comma));
    std::erase(name, ' ');
    require(std::find(kTargets.begin(), kTargets.end(), name) != kTargets.end(),
            fmt::format("lora.target_modules: unknown module '{}'; valid are all, {}", name,
                        config_schema::join(kTargets)));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
}

void validate_eval(const EvalConfig& eval) {
  require_positive("eval.batch_pairs", eval.batch_pairs);
}

}  // namespace omnirm::config_checks
