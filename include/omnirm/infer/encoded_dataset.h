// A tokenized pair set held in memory (evaluation sets, benchmarks, the fixed batches of the
// training benchmarks): records read from JSONL, passed through the chat template and the
// truncation policy, media decoded. Ties are kept when asked (evaluation) and left out
// otherwise (training).
//
// Scoring never drops an item silently: a record read for scoring whose media cannot be
// decoded (a missing or damaged file) or that the length policy drops is kept in `unscored`
// with the reason, and the record's origin; a record that is not a valid record at all
// follows data.on_bad_record as in training and is listed there too. So a report can state
// both denominators: the items the input holds and the items that were scored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "omnirm/core/config.h"
#include "omnirm/data/example.h"
#include "omnirm/data/jsonl_reader.h"
#include "omnirm/data/loader.h"
#include "omnirm/data/media_layout.h"
#include "omnirm/eval/coverage.h"
#include "omnirm/text/tokenizer.h"

namespace omnirm::infer {

using data::EncodedPair;

// What the set is read for: scoring keeps every record it can score (identical responses
// included, see data::RecordUse) and lists the rest in `unscored`; training applies the
// training rules and data.on_bad_record to every failure.
enum class DatasetUse { training, scoring };

struct EncodedDataset {
  std::string path;
  std::vector<EncodedPair> pairs;
  std::optional<data::MediaLayout> media_layout;  // how its placeholders were expanded
  data::ReadSummary read;
  data::EncodeCounts encode;
  // DatasetUse::scoring: the items not scored (unreadable records: the first 100, as
  // data::ReadSummary keeps them), and how many there are of each kind.
  std::vector<eval::UnscoredEntry> unscored;
  int64_t undecodable = 0;  // media missing, damaged, or of a kind the model has no tower for
  int64_t too_long = 0;     // dropped by the length policy

  int64_t size() const { return static_cast<int64_t>(pairs.size()); }
  // Items of the input that were read for scoring: scored + unreadable + undecodable + too long
  // (ties left out under keep_ties false do not count).
  int64_t items() const { return size() + read.skipped + undecodable + too_long; }
  // One line: "N pairs (T truncated, D dropped, S bad records skipped)", and for scoring
  // "N of M items scored (...)".
  std::string summary_line() const;
};

// Reads and encodes `path` under data.max_length / data.truncation / data.on_bad_record, with
// the run's media (placeholder layout, decoding); media paths are relative to data.root or,
// when it is empty, to the file's directory. `keep_ties` false leaves tie records out.
EncodedDataset load_encoded_dataset(const std::string& path, const text::Tokenizer& tokenizer,
                                    const Config& config, bool keep_ties,
                                    DatasetUse use = DatasetUse::training);

// The same over examples already in memory (e.g. a benchmark read in its own layout), whose
// media paths are relative to `media_root`; `path` names the set in messages.
EncodedDataset encode_examples(const std::vector<data::Example>& examples, const std::string& path,
                               const std::string& media_root, const text::Tokenizer& tokenizer,
                               const Config& config, bool keep_ties,
                               DatasetUse use = DatasetUse::training);

}  // namespace omnirm::infer
