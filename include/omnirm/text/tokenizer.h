// Text tokenizer: one interface over two kinds of file, chosen by name — an HF tokenizers
// `*.json` (byte-level BPE, the Qwen2 family; text/bpe_tokenizer.h) or a sentencepiece
// `.model` (text/sentencepiece_tokenizer.h). Either way the chat markers <|im_start|> and
// <|im_end|> are single ids; the media placeholders are single ids in every sentencepiece
// model omnirm accepts and in a tokenizer.json that lists them as added tokens.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "omnirm/text/tokenizer_backend.h"

namespace omnirm::text {

// Special tokens every omnirm tokenizer carries as single pieces.
inline constexpr const char* kImStart = "<|im_start|>";
inline constexpr const char* kImEnd = "<|im_end|>";
// The chat markers, then the media placeholders (replaced by adapter outputs in the
// omni-modal model).
const std::vector<std::string>& special_tokens();

enum class TokenizerKind { sentencepiece, bpe_json };

// By file name: a name ending in ".json" is an HF tokenizer.json, anything else sentencepiece.
TokenizerKind tokenizer_kind_of(const std::string& path);

// The name a checkpoint keeps a copy of the tokenizer at `path` under: "tokenizer.json" or
// "tokenizer.model".
std::string checkpoint_tokenizer_name(const std::string& path);

// The tokenizer file inside checkpoint directory `dir`: tokenizer.json when present, else
// tokenizer.model (whether or not it exists; loading it reports a missing file).
std::string checkpoint_tokenizer_file(const std::string& dir);

class Tokenizer {
 public:
  // Loads a tokenizer file of either kind; throws a one-line UserError naming the path (and
  // for a tokenizer.json, the field) if it cannot, or if <|im_start|> / <|im_end|> are not
  // single tokens of it.
  static Tokenizer load(const std::string& path);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  std::vector<int32_t> encode(std::string_view text) const { return backend_->encode(text); }
  std::string decode(const std::vector<int32_t>& ids) const { return backend_->decode(ids); }
  // One past the largest id.
  int64_t vocab_size() const { return backend_->vocab_size(); }
  // Id of a piece that must be one token (special tokens); throws UserError if it is not.
  int32_t piece_id(std::string_view piece) const { return backend_->piece_id(piece); }
  const std::string& path() const { return path_; }
  TokenizerKind kind() const { return kind_; }

 private:
  Tokenizer() = default;
  std::unique_ptr<TokenizerBackend> backend_;
  std::string path_;
  TokenizerKind kind_ = TokenizerKind::sentencepiece;
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
