// Unicode helpers for tokenizers: well-formed UTF-8 and NFC normalisation (utf8proc).
#pragma once

#include <string>
#include <string_view>

namespace omnirm::text {

// `bytes` with every ill-formed UTF-8 subsequence replaced by U+FFFD, one replacement per
// maximal ill-formed subpart (the Unicode "substitution of maximal subparts" practice, as in
// Rust's String::from_utf8_lossy and Python's errors="replace"). Well-formed input comes back
// unchanged.
std::string to_valid_utf8(std::string_view bytes);

// Whether `bytes` is well-formed UTF-8.
bool is_valid_utf8(std::string_view bytes);

// The NFC (canonical composition) form of well-formed UTF-8 text. Text that is not
// well-formed is first made so by to_valid_utf8.
std::string nfc(std::string_view text);

// The Unicode version of the normalisation tables, e.g. "15.0.0".
std::string unicode_version();

}  // namespace omnirm::text
