// Reads canonical pair records from JSONL. Every bad line is reported as
// "file:line: what is wrong"; policy `error` stops at the first, `skip` drops and counts.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "omnirm/data/example.h"

namespace simdjson::dom {
class parser;
}

namespace omnirm::data {

enum class OnBadRecord { error, skip };

// What the records are for. Training refuses a preference between two identical responses
// (it teaches nothing and usually means a broken record); scoring (evaluation, benchmarks,
// `omnirm score`) takes every record the metrics can score, identical responses included.
// Ties with identical responses are fine for both.
enum class RecordUse { training, scoring };

// Parses "error" | "skip"; throws UserError otherwise.
OnBadRecord parse_on_bad_record(const std::string& name);

struct ReadSummary {
  int64_t lines = 0;                  // non-empty lines seen
  int64_t records = 0;                // records kept
  int64_t skipped = 0;                // bad records skipped under `skip`
  std::vector<std::string> problems;  // "file:line: what", at most the first 100
};

struct ReadResult {
  std::vector<Example> examples;
  ReadSummary summary;
};

// Reads every record of `path`. Under OnBadRecord::error the first bad line throws
// UserError("file:line: what; fix the record or set data.on_bad_record: skip").
ReadResult read_pairs_jsonl(const std::string& path, OnBadRecord policy,
                            RecordUse use = RecordUse::training);

// Parses one JSON line; throws UserError(origin + ": what") on a bad record.
Example parse_pair_record(std::string_view json_line, const std::string& origin,
                          RecordUse use = RecordUse::training);

// parse_pair_record for many records: reuses its parser's buffers. One per thread.
class PairRecordParser {
 public:
  explicit PairRecordParser(RecordUse use = RecordUse::training);
  ~PairRecordParser();
  PairRecordParser(const PairRecordParser&) = delete;
  PairRecordParser& operator=(const PairRecordParser&) = delete;

  Example parse(std::string_view json_line, const std::string& origin);

 private:
  std::unique_ptr<simdjson::dom::parser> parser_;
  RecordUse use_;
};

// Serialises an example back to one canonical JSON line (no trailing newline).
std::string to_json_line(const Example& example);

}  // namespace omnirm::data
