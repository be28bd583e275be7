// HF tokenizers runs pre-tokenizer regexes with Oniguruma; omnirm runs them with PCRE2.
// The two agree on the syntax these patterns use but not on every class, so a pattern is
// rewritten before PCRE2 compiles it:
//   \s, \S     Oniguruma's \s is exactly the Unicode White_Space characters; PCRE2's also
//              takes U+180E. Both become an explicit class of the 25 White_Space characters.
//   \p{L}, \p{N}, \P{L}, \P{N}
//              PCRE2 10.42 classifies by Unicode 14; the tokenizers wheel's Oniguruma by
//              Unicode 16. The letters and numbers added since are added to the class.
// Inside a character class \S, \P{L} and \P{N} cannot be widened and are left as PCRE2 reads
// them. \Q...\E quoting and POSIX [:name:] classes are copied unchanged.
#pragma once

#include <string>
#include <string_view>

namespace omnirm::text {

std::string oniguruma_to_pcre2(std::string_view pattern);

}  // namespace omnirm::text
