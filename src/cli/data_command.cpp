// `omnirm data synth | validate`: the embedded synthetic data, and record checking.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "omnirm/cli/commands.h"
#include "omnirm/core/error.h"
#include "omnirm/data/jsonl_reader.h"
#include "omnirm/data/synth.h"

namespace omnirm::cli {

namespace {

void add_synth(CLI::App& data) {
  auto* command =
      data.add_subcommand("synth", "Generate the deterministic synthetic preference set");
  auto options = std::make_shared<data::SynthOptions>();
  auto out = std::make_shared<std::string>("demo-data");
  command->add_option("--tasks", options->tasks, "Tasks to generate (t2t)")->delimiter(',');
  command->add_option("-o,--out", *out, "Output directory (train.jsonl, eval.jsonl, corpus.txt)");
  command->add_option("--train-pairs", options->train_pairs, "Training pairs");
  command->add_option("--eval-pairs", options->eval_pairs, "Held-out pairs");
  command->add_option("--seed", options->seed, "Seed; the same seed gives the same files");
  command->callback([options, out] {
    const data::SynthSet set = data::synthesize(*options);
    data::write_synth_set(set, *out);
    fmt::print("wrote {} train and {} eval pairs to {}\n", set.train.size(), set.eval.size(), *out);
  });
}

void add_validate(CLI::App& data) {
  auto* command = data.add_subcommand("validate", "Check pair files and report every problem");
  auto files = std::make_shared<std::vector<std::string>>();
  command->add_option("files", *files, "Pair JSONL files")->required();
  command->callback([files] {
    int64_t bad = 0;
    for (const std::string& file : *files) {
      const data::ReadResult result = data::read_pairs_jsonl(file, data::OnBadRecord::skip);
      for (const std::string& problem : result.summary.problems) fmt::print("{}\n", problem);
      if (result.summary.skipped > static_cast<int64_t>(result.summary.problems.size())) {
        fmt::print("... and {} more\n",
                   result.summary.skipped - static_cast<int64_t>(result.summary.problems.size()));
      }
      fmt::print("{}: {} records, {} bad\n", file, result.summary.records, result.summary.skipped);
      bad += result.summary.skipped;
    }
    if (bad > 0)
      throw UserError(
          fmt::format("{} bad records; fix them or train with data.on_bad_record: skip", bad));
  });
}

}  // namespace

void add_data_command(CLI::App& app) {
  auto* data = app.add_subcommand("data", "Data tools: synth, validate");
  data->require_subcommand(1);
  add_synth(*data);
  add_validate(*data);
}

}  // namespace omnirm::cli
