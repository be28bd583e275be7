// What a tokenizer implementation offers the Tokenizer front: encode / decode text, the id
// range, and the ids of pieces that are always one token (the chat and media markers).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace omnirm::text {

class TokenizerBackend {
 public:
  virtual ~TokenizerBackend() = default;

  virtual std::vector<int32_t> encode(std::string_view text) const = 0;
  // Throws std::runtime_error for an id outside [0, vocab_size()).
  virtual std::string decode(const std::vector<int32_t>& ids) const = 0;
  // One past the largest id.
  virtual int64_t vocab_size() const = 0;
  // The id of a piece that text containing it always tokenizes to as one id; throws a
  // one-line UserError naming the piece when there is none.
  virtual int32_t piece_id(std::string_view piece) const = 0;
};

}  // namespace omnirm::text
