// A sentencepiece .model as an omnirm tokenizer. A model is accepted only when every chat /
// media special token is one piece of it, so a template rendered as text always tokenizes
// to the same marker ids; encode/decode are byte-exact for models trained by
// train_tokenizer (identity normalisation, whitespace kept, byte fallback).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "omnirm/text/tokenizer_backend.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace omnirm::text {

class SentencepieceTokenizer : public TokenizerBackend {
 public:
  // Throws UserError naming the path if it is not a sentencepiece model with omnirm's
  // special tokens.
  static std::unique_ptr<SentencepieceTokenizer> load(const std::string& model_path);
  ~SentencepieceTokenizer() override;

  std::vector<int32_t> encode(std::string_view text) const override;
  std::string decode(const std::vector<int32_t>& ids) const override;
  int64_t vocab_size() const override;
  int32_t piece_id(std::string_view piece) const override;

 private:
  SentencepieceTokenizer() = default;
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
  std::string path_;
};

}  // namespace omnirm::text
