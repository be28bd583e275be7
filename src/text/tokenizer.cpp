// Loading and running a sentencepiece model as omnirm's tokenizer. A model is accepted only
// when every chat / media special token is one piece of it, so a template rendered as text
// always tokenizes to the same marker ids; encode/decode are byte-exact for models trained
// by train_tokenizer (identity normalisation, whitespace kept, byte fallback).
#include "omnirm/text/tokenizer.h"

#include <sentencepiece_processor.h>

#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <type_traits>

#include "omnirm/core/error.h"

namespace omnirm::text {
namespace {

// sentencepiece speaks std::vector<int>; our ids are int32_t.
static_assert(std::is_same_v<int32_t, int>, "token ids are passed to sentencepiece as int");

// Status messages are printed inside one-line errors.
std::string one_line(std::string message) {
  for (char& c : message) {
    if (c == '\n' || c == '\r') {
      c = ' ';
    }
  }
  return message;
}

void verify_special_tokens(const sentencepiece::SentencePieceProcessor& processor,
                           const std::string& model_path) {
  for (const std::string& token : special_tokens()) {
    const int id = processor.PieceToId(token);
    std::vector<int> ids;
    const auto status = processor.Encode(token, &ids);
    const bool single_piece =
        !processor.IsUnknown(id) && status.ok() && ids.size() == 1 && ids[0] == id;
    if (!single_piece) {
      throw UserError("tokenizer model '" + model_path + "' was not trained with omnirm's " +
                      "special tokens ('" + token + "' is not a single piece): retrain it " +
                      "with `omnirm tokenizer train`");
    }
  }
}

}  // namespace

const std::vector<std::string>& special_tokens() {
  static const std::vector<std::string> tokens = {kImStart,  kImEnd,   "<image>", "<video>",
                                                  "<audio>", "<mesh>", "<views>"};
  return tokens;
}

Tokenizer Tokenizer::load(const std::string& model_path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(model_path, error)) {
    throw UserError("tokenizer model '" + model_path + "' does not exist: set data.tokenizer " +
                    "to a .model file or train one with `omnirm tokenizer train`");
  }
  auto processor = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto status = processor->Load(model_path);
  if (!status.ok()) {
    throw UserError("tokenizer model '" + model_path + "' is not a sentencepiece model (" +
                    one_line(status.ToString()) + "): train one with `omnirm tokenizer train`");
  }
  verify_special_tokens(*processor, model_path);

  Tokenizer tokenizer;
  tokenizer.processor_ = std::move(processor);
  tokenizer.path_ = model_path;
  return tokenizer;
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<int32_t> ids;
  const auto status = processor_->Encode(text, &ids);
  if (!status.ok()) {
    throw std::runtime_error("tokenizer '" + path_ +
                             "' failed to encode text: " + one_line(status.ToString()));
  }
  return ids;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string text;
  const auto status = processor_->Decode(ids, &text);
  if (!status.ok()) {
    throw std::runtime_error("tokenizer '" + path_ +
                             "' failed to decode ids: " + one_line(status.ToString()));
  }
  return text;
}

int64_t Tokenizer::vocab_size() const { return processor_->GetPieceSize(); }

int32_t Tokenizer::piece_id(std::string_view piece) const {
  const int id = processor_->PieceToId(piece);
  if (processor_->IsUnknown(id) && processor_->IdToPiece(id) != piece) {
    throw UserError("tokenizer model '" + path_ + "' has no piece '" + std::string(piece) +
                    "': retrain it with `omnirm tokenizer train`");
  }
  return id;
}

}  // namespace omnirm::text
