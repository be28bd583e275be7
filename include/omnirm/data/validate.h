// Checking a canonical pair file completely: every record is parsed (the first problem of a
// bad record is reported) and every media path of a good record must name an existing file
// or directory that stays inside the root once symbolic links are followed. Problems are
// handed out one by one as "file:line: field: what", so a file of any size is checked in
// bounded memory.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace omnirm::data {

struct ValidateOptions {
  std::string root;         // media root; empty: the file's directory
  bool check_media = true;  // false: only the records themselves
};

struct ValidateSummary {
  int64_t records = 0;      // non-blank lines
  int64_t bad_records = 0;  // records with at least one problem
  int64_t problems = 0;
  int64_t media_checked = 0;
};

// Calls `report` for every problem, in file order.
ValidateSummary validate_pairs_file(const std::string& path, const ValidateOptions& options,
                                    const std::function<void(const std::string&)>& report);

}  // namespace omnirm::data
