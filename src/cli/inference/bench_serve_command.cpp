// `omnirm bench serve`: requests/s and p50 / p99 latency of the reward server on loopback at
// a fixed concurrency, text and image prompts, batching on vs off, all in the same run.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "omnirm/cli/commands.h"
#include "omnirm/serve/bench_serve.h"

namespace omnirm::cli {

void add_bench_serve_command(CLI::App& bench) {
  auto* command = bench.add_subcommand(
      "serve", "Reward server requests/s and p50/p99 latency on loopback, batching on vs off");
  auto o = std::make_shared<serve::BenchServeOptions>();
  command
      ->add_option("-m,--model", o->model,
                   "Checkpoint directory, run output directory or export directory")
      ->required();
  command->add_option("-d,--data", o->data,
                      "Pair JSONL for the requests (default: the model's data.eval): its text-only "
                      "pairs and its image-prompt pairs are measured as two sets");
  command->add_option("--concurrency", o->concurrency, "Client threads sending at once");
  command->add_option("--requests", o->requests, "Timed requests per mode");
  command->add_option("--max-batch-tokens", o->max_batch_tokens, "The server's batch budget");
  command->add_option("--max-length", o->max_length,
                      "Most tokens of prompt + one response (default: the model's "
                      "data.max_length); longer pairs are left out");
  command->callback([o] { fmt::print("{}", serve::format_bench_serve(serve::bench_serve(*o))); });
}

}  // namespace omnirm::cli
