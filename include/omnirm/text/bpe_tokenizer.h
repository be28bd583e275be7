// A byte-level BPE tokenizer read from an HF tokenizers `tokenizer.json` (the Qwen2 / GPT-2
// family), giving the same ids as HF tokenizers' Tokenizer.encode(text,
// add_special_tokens=False) for the configurations text/tokenizer_json.h accepts:
//   1. added tokens are found first, leftmost and then longest, and are never split:
//      non-normalized ones in the raw text, normalized ones in the NFC'd text between them;
//   2. the rest is NFC-normalised (when the normalizer says so), split by the pre-tokenizer
//      regex steps (PCRE2), spelled in the byte-level alphabet and merged by the BPE model
//      (lowest merge rank first, results cached per piece).
// decode maps byte-level tokens back to bytes and gives added tokens as written; ill-formed
// UTF-8 in the result (ids that cut a character) becomes U+FFFD, as in HF.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "omnirm/text/tokenizer_backend.h"

namespace omnirm::text {

class BpeTokenizer : public TokenizerBackend {
 public:
  // Throws a one-line UserError naming the path and the field for a file it cannot use.
  static std::unique_ptr<BpeTokenizer> load(const std::string& path);
  ~BpeTokenizer() override;

  std::vector<int32_t> encode(std::string_view text) const override;
  std::string decode(const std::vector<int32_t>& ids) const override;
  int64_t vocab_size() const override;
  // Added tokens only: a vocabulary entry that is not an added token can be split by BPE.
  int32_t piece_id(std::string_view piece) const override;

 private:
  struct State;
  explicit BpeTokenizer(std::unique_ptr<State> state);
  void encode_text(std::string_view text, std::vector<int32_t>& ids) const;
  void encode_normalized(std::string_view text, std::vector<int32_t>& ids) const;
  std::unique_ptr<State> state_;
};

}  // namespace omnirm::text
