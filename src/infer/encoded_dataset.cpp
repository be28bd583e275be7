// Implementation of infer/encoded_dataset.h.
#include "omnirm/infer/encoded_dataset.h"

#include <fmt/format.h>

#include <filesystem>

#include "omnirm/core/error.h"
#include "omnirm/data/pair_encoder.h"
#include "omnirm/infer/media_hook.h"
#include "omnirm/text/truncation.h"

namespace omnirm::infer {

std::string EncodedDataset::summary_line() const {
  if (items() == size()) {
    return fmt::format("{} pairs ({} truncated, {} dropped as too long, {} bad records skipped)",
                       pairs.size(), encode.truncated, encode.dropped, read.skipped);
  }
  return fmt::format(
      "{} of {} items scored, {} truncated; not scored: {} bad records, {} too long, {} with "
      "media that could not be decoded",
      pairs.size(), items(), encode.truncated, read.skipped, too_long, undecodable);
}

EncodedDataset load_encoded_dataset(const std::string& path, const text::Tokenizer& tokenizer,
                                    const Config& config, bool keep_ties, DatasetUse use) {
  const data::OnBadRecord policy = data::parse_on_bad_record(config.data.on_bad_record);
  const data::ReadResult read = data::read_pairs_jsonl(
      path, policy,
      use == DatasetUse::scoring ? data::RecordUse::scoring : data::RecordUse::training);
  const std::string media_root = config.data.root.empty()
                                     ? std::filesystem::path(path).parent_path().string()
                                     : config.data.root;
  EncodedDataset dataset =
      encode_examples(read.examples, path, media_root, tokenizer, config, keep_ties, use);
  const int64_t encode_skipped = dataset.read.skipped;
  dataset.read = read.summary;
  dataset.read.skipped += encode_skipped;
  if (use == DatasetUse::scoring) {
    for (const std::string& problem : read.summary.problems) {
      dataset.unscored.push_back(eval::unreadable_record(problem));
    }
  }
  return dataset;
}

EncodedDataset encode_examples(const std::vector<data::Example>& examples, const std::string& path,
                               const std::string& media_root, const text::Tokenizer& tokenizer,
                               const Config& config, bool keep_ties, DatasetUse use) {
  const DataConfig& data_config = config.data;
  const data::OnBadRecord policy = data::parse_on_bad_record(data_config.on_bad_record);
  const MediaSetup media = make_media_setup(config, tokenizer);
  EncodedDataset dataset;
  dataset.path = path;
  dataset.media_layout = media.layout;
  data::PairEncoder encoder(tokenizer, data_config.max_length,
                            text::parse_truncation_policy(data_config.truncation), media.layout);
  if (media.minicpmo) encoder.set_minicpmo_layout(*media.minicpmo);
  dataset.pairs.reserve(examples.size());
  for (const data::Example& example : examples) {
    if (example.preference == data::Preference::tie && !keep_ties) continue;
    try {
      const int64_t dropped_before = dataset.encode.dropped;
      std::optional<data::EncodedPair> pair =
          data::encode_pair(example, encoder, dataset.encode, nullptr, media_root, media.hook);
      if (pair) {
        dataset.pairs.push_back(std::move(*pair));
      } else if (use == DatasetUse::scoring && dataset.encode.dropped > dropped_before) {
        ++dataset.too_long;
        dataset.unscored.push_back(
            {example.id, example.task, example.origin,
             fmt::format("longer than data.max_length ({} tokens) under data.truncation: {}",
                         data_config.max_length, data_config.truncation)});
      }
    } catch (const UserError& error) {
      // Scoring lists the item and goes on; training follows data.on_bad_record.
      if (use == DatasetUse::scoring) {
        ++dataset.undecodable;
        dataset.unscored.push_back({example.id, example.task, example.origin, error.what()});
        continue;
      }
      if (policy == data::OnBadRecord::error) {
        throw UserError(example.origin + ": " + error.what() +
                        "; fix the record or set data.on_bad_record: skip");
      }
      ++dataset.read.skipped;
    }
  }
  return dataset;
}

}  // namespace omnirm::infer
