// Implementation of text/sentencepiece_tokenizer.h on sentencepiece's processor.
#include "omnirm/text/sentencepiece_tokenizer.h"

#include <sentencepiece_processor.h>

#include <stdexcept>
#include <type_traits>

#include "omnirm/core/error.h"
#include "omnirm/text/tokenizer.h"

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

std::unique_ptr<SentencepieceTokenizer> SentencepieceTokenizer::load(
    const std::string& model_path) {
  auto processor = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto status = processor->Load(model_path);
  if (!status.ok()) {
    throw UserError("tokenizer model '" + model_path + "' is not a sentencepiece model (" +
                    one_line(status.ToString()) + "): train one with `omnirm tokenizer train`");
  }
  verify_special_tokens(*processor, model_path);

  std::unique_ptr<SentencepieceTokenizer> tokenizer(new SentencepieceTokenizer());
  tokenizer->processor_ = std::move(processor);
  tokenizer->path_ = model_path;
  return tokenizer;
}

SentencepieceTokenizer::~SentencepieceTokenizer() = default;

std::vector<int32_t> SentencepieceTokenizer::encode(std::string_view text) const {
  std::vector<int32_t> ids;
  const auto status = processor_->Encode(text, &ids);
  if (!status.ok()) {
    throw std::runtime_error("tokenizer '" + path_ +
                             "' failed to encode text: " + one_line(status.ToString()));
  }
  return ids;
}

std::string SentencepieceTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string text;
  const auto status = processor_->Decode(ids, &text);
  if (!status.ok()) {
    throw std::runtime_error("tokenizer '" + path_ +
                             "' failed to decode ids: " + one_line(status.ToString()));
  }
  return text;
}

int64_t SentencepieceTokenizer::vocab_size() const { return processor_->GetPieceSize(); }

int32_t SentencepieceTokenizer::piece_id(std::string_view piece) const {
  const int id = processor_->PieceToId(piece);
  if (processor_->IsUnknown(id) && processor_->IdToPiece(id) != piece) {
    throw UserError("tokenizer model '" + path_ + "' has no piece '" + std::string(piece) +
                    "': retrain it with `omnirm tokenizer train`");
  }
  return id;
}

}  // namespace omnirm::text
