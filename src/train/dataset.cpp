// Implementation of train/dataset.h.
#include "omnirm/train/dataset.h"

#include <fmt/format.h>

#include <filesystem>

#include "omnirm/core/error.h"
#include "omnirm/train/media_hook.h"

namespace omnirm::train {

std::string EncodedDataset::summary_line() const {
  return fmt::format("{} pairs ({} truncated, {} dropped as too long, {} bad records skipped)",
                     pairs.size(), encode.truncated, encode.dropped, read.skipped);
}

EncodedDataset load_encoded_dataset(const std::string& path, const text::Tokenizer& tokenizer,
                                    const Config& config, bool keep_ties) {
  const data::OnBadRecord policy = data::parse_on_bad_record(config.data.on_bad_record);
  data::ReadResult read = data::read_pairs_jsonl(path, policy);
  const std::string media_root = config.data.root.empty()
                                     ? std::filesystem::path(path).parent_path().string()
                                     : config.data.root;
  EncodedDataset dataset =
      encode_examples(read.examples, path, media_root, tokenizer, config, keep_ties);
  const int64_t encode_skipped = dataset.read.skipped;
  dataset.read = read.summary;
  dataset.read.skipped += encode_skipped;
  return dataset;
}

EncodedDataset encode_examples(const std::vector<data::Example>& examples, const std::string& path,
                               const std::string& media_root, const text::Tokenizer& tokenizer,
                               const Config& config, bool keep_ties) {
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
      std::optional<data::EncodedPair> pair =
          data::encode_pair(example, encoder, dataset.encode, nullptr, media_root, media.hook);
      if (pair) dataset.pairs.push_back(std::move(*pair));
    } catch (const UserError& error) {
      if (policy == data::OnBadRecord::error) {
        throw UserError(example.origin + ": " + error.what() +
                        "; fix the record or set data.on_bad_record: skip");
      }
      ++dataset.read.skipped;
    }
  }
  return dataset;
}

}  // namespace omnirm::train
