// Implementation of serve/base64.h.
#include "omnirm/serve/base64.h"

namespace omnirm::serve {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The 6-bit value of `c`, or -1.
int value_of(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

int64_t base64_decoded_bound(std::string_view text) {
  return (static_cast<int64_t>(text.size()) + 3) / 4 * 3;
}

Base64Result decode_base64(std::string_view text) {
  Base64Result result;
  result.bytes.reserve(static_cast<size_t>(base64_decoded_bound(text)));
  uint32_t group = 0;  // up to four 6-bit values
  int count = 0;       // values in `group`
  int64_t last_value_offset = -1;
  bool padding = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (is_space(c)) continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    const int value = value_of(c);
    if (value < 0 || padding) {  // not base64, or data after padding
      result.bytes.clear();
      result.bad_offset = static_cast<int64_t>(i);
      return result;
    }
    last_value_offset = static_cast<int64_t>(i);
    group = (group << 6) | static_cast<uint32_t>(value);
    if (++count == 4) {
      result.bytes += static_cast<char>((group >> 16) & 0xff);
      result.bytes += static_cast<char>((group >> 8) & 0xff);
      result.bytes += static_cast<char>(group & 0xff);
      group = 0;
      count = 0;
    }
  }
  if (count == 1) {  // 6 bits cannot make a byte
    result.bytes.clear();
    result.bad_offset = last_value_offset;
    return result;
  }
  if (count == 2) {
    result.bytes += static_cast<char>((group >> 4) & 0xff);
  } else if (count == 3) {
    result.bytes += static_cast<char>((group >> 10) & 0xff);
    result.bytes += static_cast<char>((group >> 2) & 0xff);
  }
  return result;
}

std::string encode_base64(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t group = (uint32_t(uint8_t(bytes[i])) << 16) |
                           (uint32_t(uint8_t(bytes[i + 1])) << 8) | uint32_t(uint8_t(bytes[i + 2]));
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
    out += kAlphabet[(group >> 6) & 63];
    out += kAlphabet[group & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t group = uint32_t(uint8_t(bytes[i])) << 16;
    if (rest == 2) group |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
    out += rest == 2 ? kAlphabet[(group >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace omnirm::serve
