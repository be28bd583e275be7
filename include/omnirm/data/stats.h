// What a canonical pair file holds: counts per task and per modality, ties and margins, and,
// given a tokenizer, token-length percentiles of the prompt, each response and the whole
// pair before any truncation, with the pairs the configured data.max_length /
// data.truncation would truncate or drop. Given the run's media layout, lengths count media as
// training does (each placeholder expanded to its adapter's tokens; under model.arch minicpmo
// the MiniCPM-o layout, which reads the media files); a record whose media cannot be laid out
// is counted as bad.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "omnirm/core/config.h"
#include "omnirm/data/media_layout.h"
#include "omnirm/data/minicpmo_layout.h"
#include "omnirm/text/tokenizer.h"

namespace omnirm::data {

struct LengthPercentiles {
  int64_t p50 = 0;
  int64_t p90 = 0;
  int64_t p99 = 0;
  int64_t max = 0;
  double mean = 0.0;
};

struct DataStats {
  std::string path;
  int64_t records = 0;  // valid records
  int64_t bad = 0;      // skipped, with the first problems below
  std::vector<std::string> problems;
  int64_t ties = 0;
  int64_t with_margin = 0;
  int64_t with_criteria = 0;
  std::map<std::string, int64_t> per_task;
  // "prompt media -> response media", e.g. "text -> text", "text+image -> text".
  std::map<std::string, int64_t> per_modality;

  bool has_lengths = false;                          // false without a tokenizer
  LengthPercentiles prompt, chosen, rejected, pair;  // pair: prompt + chosen + rejected
  int64_t max_length = 0;
  std::string truncation;
  int64_t truncated = 0;
  int64_t dropped = 0;
};

// How a run lays its media out (infer::make_media_setup gives the layout and the MiniCPM-o
// options); empty: media parts count as the text of their placeholders.
struct StatsMedia {
  std::optional<MediaLayout> layout;
  std::optional<MinicpmoLayoutOptions> minicpmo;
  std::string root;  // the media root the MiniCPM-o layout reads files under
};

// Reads `path` (bad records skipped and counted). `tokenizer` may be null: no lengths.
DataStats compute_stats(const std::string& path, const text::Tokenizer* tokenizer,
                        const DataConfig& config, const StatsMedia& media = {});

// Nearest-rank percentiles of `values` (sorted in place).
LengthPercentiles percentiles(std::vector<int32_t>& values);

// A readable multi-line report.
std::string format_stats(const DataStats& stats);

}  // namespace omnirm::data
