// The byte-level alphabet of GPT-2-style BPE: each of the 256 byte values stands for one
// printable Unicode character, so any byte string becomes text a BPE vocabulary can spell.
// Printable bytes ('!'..'~', U+00A1..U+00AC, U+00AE..U+00FF) stand for themselves; the other
// 68 take U+0100 onwards in byte order (space -> U+0120 'Ġ', newline -> U+010A 'Ċ').
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace omnirm::text::byte_level {

// The UTF-8 spelling of the character standing for each byte.
const std::array<std::string, 256>& byte_chars();

// Appends the byte-level spelling of `bytes` to `out`.
void encode_bytes(std::string_view bytes, std::string& out);

// The byte a code point stands for, or -1 when it is not in the alphabet.
int byte_of(uint32_t code_point);

// Appends the bytes a byte-level token spells to `out`; when one of its characters is not
// in the alphabet, appends the token's own UTF-8 bytes instead (as HF's ByteLevel decoder
// does) and returns false.
bool decode_token(std::string_view token, std::string& out);

}  // namespace omnirm::text::byte_level
