// Turns an Example into token ids through the chat template and the truncation policy;
// media parts become placeholder tokens (see data/media_layout.h).
#pragma once

#include <cstdint>
#include <optional>

#include "omnirm/data/example.h"
#include "omnirm/data/media_layout.h"
#include "omnirm/data/token_cache.h"
#include "omnirm/text/tokenizer.h"
#include "omnirm/text/truncation.h"

namespace omnirm::data {

struct EncodeCounts {
  int64_t encoded = 0;
  int64_t truncated = 0;
  int64_t dropped = 0;
};

class PairEncoder {
 public:
  // With a media layout, placeholders are expanded to their adapters' token counts before the
  // length budget applies, and a pair whose cut would go through media is dropped.
  PairEncoder(const text::Tokenizer& tokenizer, int64_t max_length, text::TruncationPolicy policy,
              std::optional<MediaLayout> media_layout = std::nullopt);

  // The pair's tokens, or nullopt when the policy drops it. Updates `counts`.
  std::optional<text::PairTokens> encode(const Example& example, EncodeCounts& counts) const;
  // The same, tokenizing through `cache` (same ids; `cache` wraps the same tokenizer).
  std::optional<text::PairTokens> encode(const Example& example, EncodeCounts& counts,
                                         TokenCache& cache) const;

  int64_t max_length() const { return max_length_; }
  // Tokens of the template's closing "<|im_end|>\n", kept when a response is cut.
  int64_t closing_tokens() const { return closing_tokens_; }

 private:
  std::optional<text::PairTokens> fit(text::PairTokens pair, EncodeCounts& counts) const;

  const text::Tokenizer& tokenizer_;
  std::optional<MediaLayout> media_layout_;
  int64_t max_length_;
  text::TruncationPolicy policy_;
  int64_t closing_tokens_;
};

}  // namespace omnirm::data
