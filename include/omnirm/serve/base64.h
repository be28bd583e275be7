// Base64 (RFC 4648, standard alphabet) for media sent inside a request: decoding that says
// where the text stops being base64, and the decoded size known before decoding.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace omnirm::serve {

struct Base64Result {
  std::string bytes;        // the decoded bytes, when ok
  int64_t bad_offset = -1;  // else: the offset in the text of the first character that is wrong
  bool ok() const { return bad_offset < 0; }
};

// Decodes `text`; whitespace (space, tab, CR, LF) is skipped, '=' padding is optional but
// only at the end. A character outside the alphabet, padding in the middle, or a length that
// leaves a lone 6-bit group is an error at its offset.
Base64Result decode_base64(std::string_view text);

// The most bytes `text` can decode to (before looking at it): 3 per 4 characters.
int64_t base64_decoded_bound(std::string_view text);

// Encodes `bytes` with padding (for clients and tests).
std::string encode_base64(std::string_view bytes);

}  // namespace omnirm::serve
