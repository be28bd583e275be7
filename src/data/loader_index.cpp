// Implementation of loader_index.h: one sequential pass with LineReader, every non-blank
// line parsed by PairRecordParser, one span kept per usable record.
#include "loader_index.h"

#include <algorithm>

#include "line_reader.h"
#include "omnirm/core/error.h"

namespace omnirm::data {
namespace {

constexpr size_t kMaxProblems = 100;
constexpr std::string_view kSkipAdvice = "; fix the record or set data.on_bad_record: skip";

bool is_blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  });
}

}  // namespace

RecordIndex build_record_index(const std::string& path, OnBadRecord policy, bool keep_ties) {
  RecordIndex index;
  index.summary.path = path;
  LineReader reader(path);
  index.file_bytes = static_cast<int64_t>(reader.file_bytes());
  // About 1.5 KB per record is typical; reserving avoids most regrowth of the spans.
  index.spans.reserve(reader.file_bytes() / 1536 + 16);

  PairRecordParser parser;
  TextLine line;
  while (reader.next(line)) {
    if (is_blank(line.text)) continue;
    ++index.summary.lines;
    const std::string origin = path + ":" + std::to_string(line.number);
    try {
      if (line.text.size() > kMaxSpanLength) {
        throw UserError(origin + ": record: longer than " + std::to_string(kMaxSpanLength) +
                        " bytes; media belong in files referenced by path");
      }
      if (line.offset > kMaxSpanOffset) {
        throw UserError(origin + ": record: starts beyond byte " + std::to_string(kMaxSpanOffset) +
                        "; split the file");
      }
      const Example example = parser.parse(line.text, origin);
      if (example.preference == Preference::tie && !keep_ties) {
        ++index.summary.ties;
        continue;
      }
      index.spans.push_back(make_span(line.offset, line.text.size()));
    } catch (const UserError& error) {
      if (policy == OnBadRecord::error) throw UserError(error.what() + std::string(kSkipAdvice));
      ++index.summary.bad;
      if (index.summary.problems.size() < kMaxProblems) {
        index.summary.problems.emplace_back(error.what());
      }
    }
  }
  index.spans.shrink_to_fit();
  index.summary.usable = static_cast<int64_t>(index.spans.size());
  return index;
}

int64_t line_number_at(const std::string& path, uint64_t offset) {
  LineReader reader(path);
  TextLine line;
  int64_t number = 1;
  while (reader.next(line) && line.offset < offset) number = line.number + 1;
  return number;
}

}  // namespace omnirm::data
