// Fitting a tokenized pair into the configured length. The budget is counted per side as
// the other tools do: prompt + the longer response <= max_length.
// Policy `truncate`: the prompt is cut from the left first (down to no less than half the
// budget), then each response is cut from the right, keeping its closing tokens so the
// reward is still read at the end-of-turn token. Policy `drop`: over-long pairs are dropped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace omnirm::text {

struct PairTokens {
  std::vector<int32_t> prompt;
  std::vector<int32_t> chosen;
  std::vector<int32_t> rejected;
};

enum class TruncationPolicy { truncate, drop };
enum class FitOutcome { fits, truncated, dropped };

// Parses "truncate" | "drop"; throws UserError otherwise.
TruncationPolicy parse_truncation_policy(const std::string& name);

// Modifies `pair` in place. `closing_tokens` is how many trailing tokens of each response
// are the template's closing tokens (kept when a response is cut).
FitOutcome fit_pair_to_length(PairTokens& pair, int64_t max_length, TruncationPolicy policy,
                              int64_t closing_tokens);

}  // namespace omnirm::text
