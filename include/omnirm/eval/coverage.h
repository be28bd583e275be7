// How much of an evaluation's input was scored: the items the input holds, the items scored,
// and every item that could not be (a missing or damaged media file, a record too long for the
// length policy, an unreadable record) with its reason. A report states both numbers, so its
// metrics (computed over the scored items) are never mistaken for the whole input's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace omnirm::eval {

struct UnscoredEntry {
  std::string id;      // empty for a record that could not be read
  std::string task;    // likewise
  std::string origin;  // "file:line"
  std::string reason;  // one line
};

// The entry of a record that could not be read, from its "file:line: what" message.
UnscoredEntry unreadable_record(const std::string& problem);

struct Coverage {
  int64_t items = 0;   // in the input
  int64_t scored = 0;  // the metrics' denominator (before ties are set aside)
  std::vector<UnscoredEntry> unscored;
};

// "scored 118 of 120 items; 2 not scored, listed in report.json" (or "scored all 120 items").
std::string coverage_line(const Coverage& coverage);

// `report_json` (a JSON object's text) with "items", "scored" and "unscored" (the entries)
// added at its top level.
std::string add_coverage_json(const std::string& report_json, const Coverage& coverage);

// A Markdown paragraph stating both numbers, then a table of the unscored items (if any).
std::string coverage_markdown(const Coverage& coverage);

}  // namespace omnirm::eval
