// `omnirm tokenizer train`: trains a sentencepiece tokenizer with omnirm's special tokens.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "omnirm/cli/commands.h"
#include "omnirm/text/tokenizer.h"

namespace omnirm::cli {

void add_tokenizer_command(CLI::App& app) {
  auto* tokenizer = app.add_subcommand("tokenizer", "Tokenizer tools: train");
  tokenizer->require_subcommand(1);
  auto* train = tokenizer->add_subcommand("train", "Train a sentencepiece model on a text corpus");
  auto options = std::make_shared<text::TokenizerTrainOptions>();
  train->add_option("--corpus", options->corpus_path, "Text corpus, one sentence per line")
      ->required();
  train->add_option("-o,--out", options->model_prefix, "Output prefix (writes PREFIX.model)")
      ->required();
  train->add_option("--vocab-size", options->vocab_size, "Vocabulary size");
  train->add_option("--model-type", options->model_type, "unigram or bpe");
  train->add_option("--seed", options->seed, "Seed");
  train->callback([options] {
    text::train_tokenizer(*options);
    fmt::print("wrote {}.model\n", options->model_prefix);
  });
}

}  // namespace omnirm::cli
