// `omnirm train`: trains a reward model from a YAML config.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "omnirm/cli/commands.h"
#include "omnirm/train/trainer.h"

namespace omnirm::cli {

void add_train_command(CLI::App& app) {
  auto* command = app.add_subcommand("train", "Train a BT reward model from a YAML config");
  auto options = std::make_shared<ConfigOptions>();
  auto resume = std::make_shared<std::string>();
  auto init_from = std::make_shared<std::string>();
  add_config_options(*command, *options);
  command->add_option("--init-from", *init_from,
                      "Fine-tune from an `omnirm export` directory or a checkpoint (sets "
                      "train.init_from; the model shape and tokenizer come from it)");
  command->add_option("--resume", *resume,
                      "'auto' continues from the newest checkpoint of train.output_dir; or a "
                      "checkpoint directory");
  command->callback([options, resume, init_from] {
    std::vector<std::string> overrides = options->overrides;
    if (!init_from->empty()) overrides.push_back("train.init_from=" + *init_from);
    const Config config = load_config(options->path, overrides);
    const train::TrainResult result = train::run_training(config, train::TrainOptions{*resume});
    if (!result.main_process) return;  // in a data-parallel run, rank 0 reports
    fmt::print("trained {} steps; checkpoints in {}/checkpoints\n", result.steps,
               config.train.output_dir);
    if (result.final_eval) {
      fmt::print("held-out evaluation ({}):\n{}", config.data.eval,
                 eval::format_metrics_table(*result.final_eval));
    }
  });
}

}  // namespace omnirm::cli
