// Text tokenizer: a sentencepiece model with the chat special tokens as single pieces.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace omnirm::text {

// Special tokens every omnirm tokenizer carries as single pieces.
inline constexpr const char* kImStart = "<|im_start|>";
inline constexpr const char* kImEnd = "<|im_end|>";
// Media placeholders (replaced by adapter outputs in the omni-modal model).
const std::vector<std::string>& special_tokens();

class Tokenizer {
 public:
  // Loads a sentencepiece .model; throws UserError naming the path if it cannot.
  static Tokenizer load(const std::string& model_path);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  std::vector<int32_t> encode(std::string_view text) const;
  std::string decode(const std::vector<int32_t>& ids) const;
  int64_t vocab_size() const;
  // Id of a piece that must exist (special tokens); throws UserError if absent.
  int32_t piece_id(std::string_view piece) const;
  const std::string& path() const { return path_; }

 private:
  Tokenizer() = default;
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
  std::string path_;
};

struct TokenizerTrainOptions {
  std::string corpus_path;   // one sentence per line
  std::string model_prefix;  // writes <prefix>.model and <prefix>.vocab
  int64_t vocab_size = 2000;
  std::string model_type = "unigram";  // unigram | bpe
  uint64_t seed = 0;
};

// Trains a sentencepiece model whose normalisation keeps text byte-exact (identity rule,
// whitespace kept, byte fallback), with special_tokens() as user-defined symbols.
void train_tokenizer(const TokenizerTrainOptions& options);

}  // namespace omnirm::text
