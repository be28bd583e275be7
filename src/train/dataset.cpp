// Implementation of train/dataset.h.
#include "omnirm/train/dataset.h"

#include <fmt/format.h>

namespace omnirm::train {

std::string EncodedDataset::summary_line() const {
  return fmt::format("{} pairs ({} truncated, {} dropped as too long, {} bad records skipped)",
                     pairs.size(), encode.truncated, encode.dropped, read.skipped);
}

EncodedDataset load_encoded_dataset(const std::string& path, const text::Tokenizer& tokenizer,
                                    const DataConfig& config, bool keep_ties) {
  EncodedDataset dataset;
  dataset.path = path;
  data::ReadResult read =
      data::read_pairs_jsonl(path, data::parse_on_bad_record(config.on_bad_record));
  dataset.read = read.summary;
  const data::PairEncoder encoder(tokenizer, config.max_length,
                                  text::parse_truncation_policy(config.truncation));
  dataset.pairs.reserve(read.examples.size());
  for (const data::Example& example : read.examples) {
    const bool tie = example.preference == data::Preference::tie;
    if (tie && !keep_ties) continue;
    std::optional<text::PairTokens> tokens = encoder.encode(example, dataset.encode);
    if (!tokens) continue;
    EncodedPair pair;
    pair.tokens = std::move(*tokens);
    pair.margin = static_cast<float>(example.margin);
    pair.tie = tie;
    pair.id = example.id;
    pair.task = example.task;
    pair.tags = example.tags;
    dataset.pairs.push_back(std::move(pair));
  }
  return dataset;
}

}  // namespace omnirm::train
