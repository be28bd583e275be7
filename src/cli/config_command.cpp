// `omnirm config show -c CONFIG [--set key=value ...]`: the configuration a command would run
// with, every key resolved, as YAML. `omnirm config docs`: the key reference
// (core/config_reference.h) as Markdown, the text of docs/config.md.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "omnirm/cli/commands.h"
#include "omnirm/core/config.h"
#include "omnirm/core/config_reference.h"

namespace omnirm::cli {

void add_config_command(CLI::App& app) {
  auto* command =
      app.add_subcommand("config", "Show a resolved configuration or the key reference");
  command->require_subcommand(1);

  auto* show = command->add_subcommand(
      "show", "Print every key of the configuration CONFIG and --set give, as YAML");
  auto options = std::make_shared<ConfigOptions>();
  add_config_options(*show, *options);
  show->callback(
      [options] { fmt::print("{}", dump_config(load_config(options->path, options->overrides))); });

  auto* docs = command->add_subcommand(
      "docs", "Print the key reference as Markdown (the text of docs/config.md)");
  docs->callback([] { fmt::print("{}", config_reference_markdown()); });
}

}  // namespace omnirm::cli
