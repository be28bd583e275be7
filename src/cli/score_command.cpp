// `omnirm score`: writes the reward of both responses of every pair in a JSONL file.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <fstream>
#include <nlohmann/json.hpp>

#include "omnirm/cli/commands.h"
#include "omnirm/core/error.h"
#include "omnirm/train/checkpoint.h"
#include "omnirm/train/dataset.h"
#include "omnirm/train/evaluator.h"

namespace omnirm::cli {

void add_score_command(CLI::App& app) {
  auto* command = app.add_subcommand("score", "Score the responses of a pair file");
  struct Options {
    std::string model, input, output;
    int64_t batch_pairs = 64;
  };
  auto o = std::make_shared<Options>();
  command->add_option("-m,--model", o->model, "Checkpoint directory or run output directory")
      ->required();
  command->add_option("-i,--input", o->input, "Pair JSONL to score")->required();
  command->add_option("-o,--output", o->output, "Output JSONL (default: stdout)");
  command->add_option("--batch-pairs", o->batch_pairs, "Pairs per forward pass");
  command->callback([o] {
    train::LoadedModel loaded = train::load_model_dir(o->model);
    const train::EncodedDataset dataset = train::load_encoded_dataset(
        o->input, loaded.tokenizer, loaded.config, /*keep_ties=*/true);
    const auto scores = train::score_dataset(*loaded.model, dataset, o->batch_pairs,
                                             /*prefix_sharing=*/true, at::Device(at::kCPU));
    std::ofstream file;
    if (!o->output.empty()) {
      file.open(o->output);
      if (!file) throw UserError("cannot write " + o->output);
    }
    std::ostream& out = o->output.empty() ? std::cout : file;
    for (const train::PairScore& s : scores) {
      out << nlohmann::json{{"id", s.id},
                            {"task", s.task},
                            {"reward_chosen", s.chosen},
                            {"reward_rejected", s.rejected},
                            {"margin", double(s.chosen) - double(s.rejected)}}
                 .dump()
          << '\n';
    }
    fmt::print(stderr, "scored {}\n", dataset.summary_line());
  });
}

}  // namespace omnirm::cli
