// Turns an Example into token ids through the chat template and the truncation policy;
// media parts become placeholder tokens (see data/media_layout.h).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "omnirm/data/example.h"
#include "omnirm/data/media_layout.h"
#include "omnirm/data/minicpmo_layout.h"
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

  // model.arch minicpmo: prompts and responses are rendered with the minicpm_o template and
  // MiniCPM-o's media layout (data/minicpmo_layout.h) instead of omnirm's placeholders.
  // The layout's shape lookup receives the parts' paths as the record has them; encode_pair
  // joins them to the media root first.
  void set_minicpmo_layout(MinicpmoLayoutOptions options) { minicpmo_ = std::move(options); }
  bool renders_minicpmo() const { return minicpmo_.has_value(); }

  int64_t max_length() const { return max_length_; }
  // Tokens of the template's closing "<|im_end|>\n", kept when a response is cut.
  int64_t closing_tokens() const { return closing_tokens_; }

 private:
  std::optional<text::PairTokens> fit(text::PairTokens pair, EncodeCounts& counts) const;
  // The rendered prompt, chosen and rejected texts.
  std::array<std::string, 3> render(const Example& example) const;

  const text::Tokenizer& tokenizer_;
  std::optional<MediaLayout> media_layout_;
  int64_t max_length_;
  text::TruncationPolicy policy_;
  int64_t closing_tokens_;
  std::optional<MinicpmoLayoutOptions> minicpmo_;
};

}  // namespace omnirm::data
