// `omnirm launch`: starts this node's data-parallel workers, each running the omnirm command
// given after `--` with torchrun's variables set, and exits with their outcome.
#include <CLI/CLI.hpp>

#include "omnirm/cli/commands.h"
#include "omnirm/dist/launcher.h"

namespace omnirm::cli {

void add_launch_command(CLI::App& app) {
  auto* command = app.add_subcommand(
      "launch",
      "Run data-parallel workers: omnirm launch --nproc-per-node N [--nnodes M --node-rank K "
      "--master-addr A --master-port P] -- train -c CONFIG");
  auto options = std::make_shared<dist::LaunchOptions>();
  command->add_option("--nproc-per-node", options->nproc_per_node, "Workers on this node")
      ->capture_default_str();
  command->add_option("--nnodes", options->nnodes, "Nodes taking part, one launcher each")
      ->capture_default_str();
  command->add_option("--node-rank", options->node_rank, "This node's index in [0, nnodes)")
      ->capture_default_str();
  command
      ->add_option("--master-addr", options->master_addr,
                   "Address of node 0, where rank 0 serves the rendezvous store")
      ->capture_default_str();
  command->add_option("--master-port", options->master_port,
                      "Port of the rendezvous store; default: a free port (one node only)");
  command
      ->add_option("--stop-grace", options->stop_grace_seconds,
                   "Seconds stopped workers get between SIGTERM and SIGKILL")
      ->capture_default_str();
  // After `--`, everything is the worker command, its options included.
  command->add_option("command", options->arguments,
                      "The omnirm command each worker runs, after --, e.g. -- train -c CONFIG");
  command->callback([options] {
    const int code = dist::launch_workers(*options);
    if (code != 0) throw CommandExit{code};
  });
}

}  // namespace omnirm::cli
