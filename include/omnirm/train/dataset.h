// A tokenized pair dataset held in memory (evaluation sets, benchmarks): records read from
// JSONL, passed through the chat template and the truncation policy. Ties are kept for
// evaluation and skipped in training. Training data streams through data::Loader instead.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "omnirm/core/config.h"
#include "omnirm/data/jsonl_reader.h"
#include "omnirm/data/loader.h"
#include "omnirm/data/media_layout.h"
#include "omnirm/data/pair_encoder.h"
#include "omnirm/text/tokenizer.h"
#include "omnirm/text/truncation.h"

namespace omnirm::train {

using data::EncodedPair;

struct EncodedDataset {
  std::string path;
  std::vector<EncodedPair> pairs;
  std::optional<data::MediaLayout> media_layout;  // how its placeholders were expanded
  data::ReadSummary read;
  data::EncodeCounts encode;

  int64_t size() const { return static_cast<int64_t>(pairs.size()); }
  // One line: "N pairs (T truncated, D dropped, S bad records skipped)".
  std::string summary_line() const;
};

// Reads and encodes `path` under data.max_length / data.truncation / data.on_bad_record, with
// the run's media (placeholder layout, decoding); media paths are relative to data.root or,
// when it is empty, to the file's directory. `keep_ties` false drops tie records (training).
// A pair whose media fail to decode follows data.on_bad_record too.
EncodedDataset load_encoded_dataset(const std::string& path, const text::Tokenizer& tokenizer,
                                    const Config& config, bool keep_ties);

// The same over examples already in memory (e.g. a benchmark read in its own layout), whose
// media paths are relative to `media_root`; `path` names the set in messages.
EncodedDataset encode_examples(const std::vector<data::Example>& examples, const std::string& path,
                               const std::string& media_root, const text::Tokenizer& tokenizer,
                               const Config& config, bool keep_ties);

}  // namespace omnirm::train
