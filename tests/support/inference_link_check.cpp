// The scoring commands (eval, score, serve, bench eval, bench serve) in a binary linked with
// omnirm_cli_inference alone, never omnirm_train (tests/CMakeLists.txt): if any of them, or
// the serve and infer areas beneath them, called into training code, this would not link.
// The suite runs it once with --help.
#include <CLI/CLI.hpp>

#include "omnirm/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"omnirm's scoring commands, linked without the trainer"};
  omnirm::cli::add_eval_command(app);
  omnirm::cli::add_score_command(app);
  omnirm::cli::add_serve_command(app);
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks of the scoring path");
  omnirm::cli::add_bench_eval_command(*bench);
  omnirm::cli::add_bench_serve_command(*bench);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
