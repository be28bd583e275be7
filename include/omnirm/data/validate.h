// Checking a canonical pair file completely: every record is parsed (the first problem of a
// bad record is reported) and every media path of a good record must name an existing file
// or directory that stays inside the root once symbolic links are followed. Given the encoder of
// a run's config, every good record is also tokenized as that run tokenizes it (under
// model.arch minicpmo this lays its media out from the decoded files), so what the run would
// refuse is reported too. Problems are handed out one by one as "file:line: field: what", so a
// file of any size is checked in bounded memory.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "omnirm/data/pair_encoder.h"

namespace omnirm::data {

struct ValidateOptions {
  std::string root;         // media root; empty: the file's directory
  bool check_media = true;  // false: only the records themselves
  // Optional: the encoder of the run's config (with its media layout); records are then also
  // rendered and tokenized. Rendering a MiniCPM-o layout reads the media files.
  const PairEncoder* encoder = nullptr;
};

struct ValidateSummary {
  int64_t records = 0;      // non-blank lines
  int64_t bad_records = 0;  // records with at least one problem
  int64_t problems = 0;
  int64_t media_checked = 0;
  int64_t rendered = 0;    // records tokenized with the encoder
  int64_t max_tokens = 0;  // the longest of them: prompt + chosen + rejected, before truncation
};

// Calls `report` for every problem, in file order.
ValidateSummary validate_pairs_file(const std::string& path, const ValidateOptions& options,
                                    const std::function<void(const std::string&)>& report);

}  // namespace omnirm::data
