// Implementation of cli/app.h: the root command, error reporting and exit codes.
#include "omnirm/cli/app.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <exception>

#include "omnirm/cli/commands.h"
#include "omnirm/core/error.h"

namespace omnirm::cli {

void add_config_options(CLI::App& command, ConfigOptions& options) {
  command.add_option("-c,--config", options.path,
                     "YAML experiment file (model, data, train, eval)");
  command
      .add_option("--set", options.overrides,
                  "Override a config key, e.g. --set train.lr=1e-5 (repeatable)")
      ->take_all();
}

int run(int argc, char** argv) {
  CLI::App app{"omnirm: train, evaluate, score and export Bradley–Terry reward models", "omnirm"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "omnirm 0.1.0");
  add_train_command(app);
  add_eval_command(app);
  add_score_command(app);
  add_serve_command(app);
  add_export_command(app);
  add_data_command(app);
  add_tokenizer_command(app);
  add_bench_command(app);
  add_bench_data_command(app);
  add_bench_load_command(app);
  add_launch_command(app);
  add_plot_command(app);
  add_model_command(app);
  add_config_command(app);
  add_doctor_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CommandExit& exit) {
    return exit.code;
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  } catch (const UserError& e) {
    fmt::print(stderr, "omnirm: error: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "omnirm: failure: {}\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace omnirm::cli
