// Implementation of text/tokenizer.h: picks the backend by file name and checks that the
// chat markers are single tokens, whatever the backend.
#include "omnirm/text/tokenizer.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>

#include "omnirm/core/error.h"
#include "omnirm/text/bpe_tokenizer.h"
#include "omnirm/text/sentencepiece_tokenizer.h"

namespace omnirm::text {

namespace fs = std::filesystem;

const std::vector<std::string>& special_tokens() {
  static const std::vector<std::string> tokens = {kImStart,  kImEnd,   "<image>", "<video>",
                                                  "<audio>", "<mesh>", "<views>"};
  return tokens;
}

TokenizerKind tokenizer_kind_of(const std::string& path) {
  std::string extension = fs::path(path).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension == ".json" ? TokenizerKind::bpe_json : TokenizerKind::sentencepiece;
}

std::string checkpoint_tokenizer_name(const std::string& path) {
  return tokenizer_kind_of(path) == TokenizerKind::bpe_json ? "tokenizer.json" : "tokenizer.model";
}

std::string checkpoint_tokenizer_file(const std::string& dir) {
  std::error_code error;
  const fs::path json = fs::path(dir) / "tokenizer.json";
  if (fs::is_regular_file(json, error)) return json.string();
  return (fs::path(dir) / "tokenizer.model").string();
}

Tokenizer Tokenizer::load(const std::string& path) {
  std::error_code error;
  if (!fs::is_regular_file(path, error)) {
    throw UserError("tokenizer '" + path + "' does not exist: set data.tokenizer to a " +
                    "sentencepiece .model or an HF tokenizer.json, or train one with " +
                    "`omnirm tokenizer train`");
  }
  Tokenizer tokenizer;
  tokenizer.path_ = path;
  tokenizer.kind_ = tokenizer_kind_of(path);
  if (tokenizer.kind_ == TokenizerKind::bpe_json) {
    tokenizer.backend_ = BpeTokenizer::load(path);
  } else {
    tokenizer.backend_ = SentencepieceTokenizer::load(path);
  }
  // The chat template needs both markers in every text; piece_id names a missing one.
  for (const char* marker : {kImStart, kImEnd}) tokenizer.backend_->piece_id(marker);
  return tokenizer;
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

}  // namespace omnirm::text
