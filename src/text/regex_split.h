// Splitting text by a Unicode regular expression (PCRE2, UTF + UCP mode, so \p{L}, \p{N} and
// \s mean their Unicode classes), the way HF tokenizers' Split pre-tokenizer does: every
// match and every stretch between matches is a piece, in order, none empty. Patterns are
// read as HF tokenizers' Oniguruma reads them (regex_dialect.h).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace omnirm::text {

struct SplitPiece {
  std::string_view text;
  bool matched = false;  // a match of the pattern (else the text between matches)
};

class RegexSplitter {
 public:
  // `literal`: the pattern is plain text, not a regular expression. Throws
  // std::invalid_argument with PCRE2's message and the offset when it does not compile.
  RegexSplitter(const std::string& pattern, bool literal);
  ~RegexSplitter();
  RegexSplitter(RegexSplitter&&) noexcept;
  RegexSplitter& operator=(RegexSplitter&&) noexcept;

  // Appends the pieces of well-formed UTF-8 `text` to `out`; the views point into `text`.
  // Safe to call from several threads at once.
  void split(std::string_view text, std::vector<SplitPiece>& out) const;

 private:
  struct Compiled;
  std::unique_ptr<Compiled> compiled_;
};

}  // namespace omnirm::text
