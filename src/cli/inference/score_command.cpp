// `omnirm score`: writes the reward of both responses of every pair in a JSONL file, one line
// per scored pair in input order. A pair that cannot be scored (media that will not decode, a
// record too long for the length policy) is named on stderr with its reason, and the summary
// line states how many of the file's items were scored.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "omnirm/cli/commands.h"
#include "omnirm/core/error.h"
#include "omnirm/infer/encoded_dataset.h"
#include "omnirm/infer/loaded_model.h"
#include "omnirm/infer/pair_scoring.h"

namespace omnirm::cli {

void add_score_command(CLI::App& app) {
  auto* command = app.add_subcommand("score", "Score the responses of a pair file");
  struct Options {
    std::string model, input, output;
    int64_t batch_pairs = 0;
  };
  auto o = std::make_shared<Options>();
  command
      ->add_option("-m,--model", o->model,
                   "Checkpoint directory, run output directory or export directory")
      ->required();
  command->add_option("-i,--input", o->input, "Pair JSONL to score")->required();
  command->add_option("-o,--output", o->output, "Output JSONL (default: stdout)");
  command->add_option("--batch-pairs", o->batch_pairs,
                      "Pairs per forward pass (default: the model's eval.batch_pairs)");
  command->callback([o] {
    infer::LoadedModel loaded = infer::load_model_dir(o->model);
    const infer::EncodedDataset dataset =
        infer::load_encoded_dataset(o->input, loaded.tokenizer, loaded.config,
                                    /*keep_ties=*/true, infer::DatasetUse::scoring);
    const int64_t batch = o->batch_pairs > 0 ? o->batch_pairs : loaded.config.eval.batch_pairs;
    const std::vector<eval::PairScore> scores = infer::score_pairs(
        *loaded.model, dataset, batch, /*prefix_sharing=*/true, at::Device(at::kCPU));
    std::ofstream file;
    if (!o->output.empty()) {
      file.open(o->output);
      if (!file) throw UserError("cannot write " + o->output + "; check the directory");
    }
    std::ostream& out = o->output.empty() ? std::cout : file;
    for (const eval::PairScore& s : scores) {
      out << nlohmann::json{{"id", s.id},
                            {"task", s.task},
                            {"reward_chosen", s.chosen},
                            {"reward_rejected", s.rejected},
                            {"margin", double(s.chosen) - double(s.rejected)}}
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
          << '\n';
    }
    for (const eval::UnscoredEntry& e : dataset.unscored) {
      fmt::print(stderr, "not scored: {}{}: {}\n", e.origin, e.id.empty() ? "" : " " + e.id,
                 e.reason);
    }
    fmt::print(stderr, "scored {}\n", dataset.summary_line());
  });
}

}  // namespace omnirm::cli
