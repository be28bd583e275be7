// The loader's index of one JSONL file: an 8-byte span (offset << 24 | length) per usable
// record, found by one sequential pass in large chunks that validates every record.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "omnirm/data/jsonl_reader.h"
#include "omnirm/data/loader.h"

namespace omnirm::data {

inline constexpr int kSpanLengthBits = 24;
inline constexpr uint64_t kMaxSpanLength = (uint64_t{1} << kSpanLengthBits) - 1;
inline constexpr uint64_t kMaxSpanOffset = (uint64_t{1} << (64 - kSpanLengthBits)) - 1;

inline uint64_t make_span(uint64_t offset, uint64_t length) {
  return (offset << kSpanLengthBits) | length;
}
inline uint64_t span_offset(uint64_t span) { return span >> kSpanLengthBits; }
inline uint64_t span_length(uint64_t span) { return span & kMaxSpanLength; }

struct RecordIndex {
  DatasetIndexSummary summary;
  int64_t file_bytes = 0;
  std::vector<uint64_t> spans;  // in file order
};

// Reads `path` once; under OnBadRecord::error the first bad record throws
// UserError("file:line: field: what; ..."). Ties are left out unless keep_ties.
RecordIndex build_record_index(const std::string& path, OnBadRecord policy, bool keep_ties);

// 1-based line number of the line that starts at byte `offset` (reads the file up to it).
int64_t line_number_at(const std::string& path, uint64_t offset);

}  // namespace omnirm::data
