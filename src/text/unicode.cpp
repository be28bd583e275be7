// Implementation of text/unicode.h. UTF-8 validation follows the well-formed byte sequences
// table of the Unicode standard (no overlongs, no surrogates, nothing above U+10FFFF); NFC
// is utf8proc's canonical decomposition + composition with stable (versioned) results.
#include "omnirm/text/unicode.h"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>

namespace omnirm::text {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// The allowed range of the second byte after a lead byte; later bytes are 80..BF.
struct LeadInfo {
  int length = 0;  // 0: not a valid lead byte
  unsigned char second_low = 0x80;
  unsigned char second_high = 0xBF;
};

LeadInfo lead_info(unsigned char lead) {
  if (lead < 0x80) return {1};
  if (lead >= 0xC2 && lead <= 0xDF) return {2};
  if (lead == 0xE0) return {3, 0xA0, 0xBF};
  if (lead == 0xED) return {3, 0x80, 0x9F};
  if (lead >= 0xE1 && lead <= 0xEF) return {3};
  if (lead == 0xF0) return {4, 0x90, 0xBF};
  if (lead >= 0xF1 && lead <= 0xF3) return {4};
  if (lead == 0xF4) return {4, 0x80, 0x8F};
  return {};
}

// How many bytes from `at` form one well-formed character; when none do, `*valid` is false
// and the result is the length of the maximal ill-formed subpart (at least 1).
size_t next_char(std::string_view bytes, size_t at, bool* valid) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(bytes[i]); };
  const LeadInfo info = lead_info(byte(at));
  if (info.length == 0) {
    *valid = false;
    return 1;
  }
  for (int k = 1; k < info.length; ++k) {
    const size_t i = at + static_cast<size_t>(k);
    const unsigned char low = k == 1 ? info.second_low : 0x80;
    const unsigned char high = k == 1 ? info.second_high : 0xBF;
    if (i >= bytes.size() || byte(i) < low || byte(i) > high) {
      *valid = false;
      return static_cast<size_t>(k);
    }
  }
  *valid = true;
  return static_cast<size_t>(info.length);
}

bool is_ascii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

}  // namespace

bool is_valid_utf8(std::string_view bytes) {
  for (size_t at = 0; at < bytes.size();) {
    bool valid = false;
    at += next_char(bytes, at, &valid);
    if (!valid) return false;
  }
  return true;
}

std::string to_valid_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t at = 0; at < bytes.size();) {
    bool valid = false;
    const size_t length = next_char(bytes, at, &valid);
    if (valid) {
      out.append(bytes.substr(at, length));
    } else {
      out.append(kReplacement);
    }
    at += length;
  }
  return out;
}

std::string nfc(std::string_view text) {
  if (is_ascii(text)) return std::string(text);
  if (!is_valid_utf8(text)) return nfc(to_valid_utf8(text));
  utf8proc_uint8_t* mapped = nullptr;
  const utf8proc_ssize_t length =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                   static_cast<utf8proc_ssize_t>(text.size()), &mapped,
                   static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (length < 0) {
    throw std::runtime_error(std::string("NFC normalisation failed: ") + utf8proc_errmsg(length));
  }
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(mapped, &std::free);
  return std::string(reinterpret_cast<const char*>(mapped), static_cast<size_t>(length));
}

std::string unicode_version() { return utf8proc_unicode_version(); }

}  // namespace omnirm::text
