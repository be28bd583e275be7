// Fits a tokenized pair into max_length (prompt + the longer response). `truncate` keeps
// the end of the prompt (the latest turns and the assistant header) and the closing tokens
// of each response, so the reward is still read at the end-of-turn token; a pair that
// cannot be fitted that way is dropped. Dropped pairs are left unmodified.
#include "omnirm/text/truncation.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "omnirm/core/error.h"

namespace omnirm::text {
namespace {

int64_t length_of(const std::vector<int32_t>& tokens) {
  return static_cast<int64_t>(tokens.size());
}

// Keeps the last `keep` tokens.
void cut_from_left(std::vector<int32_t>& tokens, int64_t keep) {
  const int64_t remove = length_of(tokens) - keep;
  if (remove > 0) {
    tokens.erase(tokens.begin(), tokens.begin() + remove);
  }
}

// Keeps the first `keep - closing` tokens followed by the last `closing` tokens.
void cut_keeping_closing(std::vector<int32_t>& tokens, int64_t keep, int64_t closing) {
  const int64_t length = length_of(tokens);
  if (length <= keep) {
    return;
  }
  const int64_t head = keep - closing;
  tokens.erase(tokens.begin() + head, tokens.begin() + (length - closing));
}

}  // namespace

TruncationPolicy parse_truncation_policy(const std::string& name) {
  if (name == "truncate") {
    return TruncationPolicy::truncate;
  }
  if (name == "drop") {
    return TruncationPolicy::drop;
  }
  throw UserError("data.truncation: unknown policy '" + name + "': use truncate or drop");
}

FitOutcome fit_pair_to_length(PairTokens& pair, int64_t max_length, TruncationPolicy policy,
                              int64_t closing_tokens) {
  if (max_length < 1) {
    throw UserError("data.max_length is " + std::to_string(max_length) +
                    ": set it to a positive number of tokens");
  }
  if (closing_tokens < 0) {
    throw std::invalid_argument("fit_pair_to_length: closing_tokens must be >= 0");
  }
  const int64_t budget = max_length;
  const int64_t prompt_length = length_of(pair.prompt);
  const int64_t response_length = std::max(length_of(pair.chosen), length_of(pair.rejected));
  if (prompt_length + response_length <= budget) {
    return FitOutcome::fits;
  }
  if (policy == TruncationPolicy::drop) {
    return FitOutcome::dropped;
  }

  // The prompt gives up what the longer response needs, but keeps at least half the budget
  // (or all of itself when shorter).
  const int64_t kept_prompt =
      std::max(budget - response_length, std::min(prompt_length, budget / 2));
  const int64_t response_budget = budget - kept_prompt;
  if (response_length > response_budget && response_budget < closing_tokens + 1) {
    return FitOutcome::dropped;
  }

  cut_from_left(pair.prompt, kept_prompt);
  cut_keeping_closing(pair.chosen, response_budget, closing_tokens);
  cut_keeping_closing(pair.rejected, response_budget, closing_tokens);
  return FitOutcome::truncated;
}

}  // namespace omnirm::text
