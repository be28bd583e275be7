// Memoised tokenization: text is cut into segments, each a run of spaces followed by the
// non-space characters up to the next space (" word", "  [x]", "end."), also cut after a run
// of newlines ("<|im_end|>\n", "<|im_start|>user\n") and around digits when the vocabulary
// allows, and each distinct segment is tokenized once and remembered.
//
// Exactness: a sentencepiece model trained with split_by_whitespace (omnirm's tokenizers,
// and sentencepiece's default) has no piece holding the space symbol after its first
// character unless the piece is all spaces; with split_by_unicode_script (the default) no
// piece joins a newline to a letter; with split_digits every digit is a piece of its own.
// Then no piece straddles a cut and the tokenization of the whole text is the
// tokenizations of its segments, back to back. The cache checks these properties on the
// vocabulary (and on probe texts) when it is built; without the first it passes every call
// straight to the tokenizer, without another it leaves that cut out. (The only conceivable
// difference is a Viterbi tie decided by float rounding; the results are deterministic
// either way, since a segment always tokenizes the same.)
//
// Not thread-safe: one cache per thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "omnirm/text/tokenizer.h"

namespace omnirm::data {

// Where text is cut into segments; each cut is used only when the vocabulary allows it.
struct TokenCacheCuts {
  bool spaces = false;    // before a run of spaces that follows a non-space (the base cut)
  bool newlines = false;  // after a run of newlines
  bool digits = false;    // around every digit (models that split digits)
};

class TokenCache {
 public:
  // `max_entries`: segments remembered; the cache is emptied when it is full.
  explicit TokenCache(const text::Tokenizer& tokenizer, int64_t max_entries = 1 << 20);

  // tokenizer.encode(text), appended to `ids`.
  void encode_append(std::string_view text, std::vector<int32_t>& ids);
  std::vector<int32_t> encode(std::string_view text);

  // False when the tokenizer's vocabulary allows pieces across segments (no caching).
  bool enabled() const { return cuts_.spaces; }
  int64_t hits() const { return hits_; }
  int64_t misses() const { return misses_; }
  const text::Tokenizer& tokenizer() const { return tokenizer_; }

  // Whether every piece of the vocabulary keeps spaces to its front (or is all spaces).
  static bool segmentable(const text::Tokenizer& tokenizer);
  // The cuts this tokenizer's vocabulary allows.
  const TokenCacheCuts& cuts() const { return cuts_; }

 private:
  // An open-addressing table; a slot holds a check value from the key's hash (0: empty)
  // and where the key's record starts in records_.
  struct Slot {
    uint32_t tag = 0;
    uint32_t record = 0;
  };

  static TokenCacheCuts analyse(const text::Tokenizer& tokenizer);

  // A segment of the text being encoded and its hash (0 when too long to remember).
  struct Pending {
    size_t begin = 0;
    size_t length = 0;
    uint64_t hash = 0;
  };

  void encode_segment(std::string_view segment, uint64_t hash, std::vector<int32_t>& ids);
  void remember(uint64_t hash, std::string_view segment, const std::vector<int32_t>& ids);
  void clear();
  std::string_view record_key(uint32_t record) const;

  const text::Tokenizer& tokenizer_;
  int64_t max_entries_;
  TokenCacheCuts cuts_;
  std::vector<Slot> slots_;  // power-of-two size, at most half full
  int64_t entries_ = 0;
  // Records back to back: [key length | id count << 16] [key bytes, padded to whole words]
  // [ids].
  std::vector<int32_t> records_;
  std::vector<Pending> pending_;
  int64_t hits_ = 0;
  int64_t misses_ = 0;
};

}  // namespace omnirm::data
