// Implementation of regex_split.h on PCRE2's 8-bit library. The pattern is JIT-compiled when
// the platform allows; a match that hits the JIT stack limit is redone by the interpreter.
// After an empty match the search resumes one character later (as Oniguruma's find-all
// does), so every call ends.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "regex_split.h"

#include <pcre2.h>

#include <stdexcept>

#include "regex_dialect.h"

namespace omnirm::text {
namespace {

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  const int length = pcre2_get_error_message(code, buffer, sizeof(buffer));
  if (length < 0) return "PCRE2 error " + std::to_string(code);
  return std::string(reinterpret_cast<const char*>(buffer), static_cast<size_t>(length));
}

size_t utf8_length(unsigned char lead) {
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

}  // namespace

struct RegexSplitter::Compiled {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Compiled() { pcre2_code_free(code); }
};

RegexSplitter::RegexSplitter(const std::string& pattern, bool literal)
    : compiled_(std::make_unique<Compiled>()) {
  uint32_t options = PCRE2_UTF | PCRE2_UCP;
  if (literal) options |= PCRE2_LITERAL;
  const std::string translated = literal ? pattern : oniguruma_to_pcre2(pattern);
  int error = 0;
  PCRE2_SIZE offset = 0;
  compiled_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()),
                                  translated.size(), options, &error, &offset, nullptr);
  if (compiled_->code == nullptr) {
    // The offset is into the rewritten pattern, so it is named only when nothing changed.
    throw std::invalid_argument(translated == pattern
                                    ? pcre2_message(error) + " at offset " + std::to_string(offset)
                                    : pcre2_message(error));
  }
  compiled_->jit = pcre2_jit_compile(compiled_->code, PCRE2_JIT_COMPLETE) == 0;
}

RegexSplitter::~RegexSplitter() = default;
RegexSplitter::RegexSplitter(RegexSplitter&&) noexcept = default;
RegexSplitter& RegexSplitter::operator=(RegexSplitter&&) noexcept = default;

void RegexSplitter::split(std::string_view text, std::vector<SplitPiece>& out) const {
  if (text.empty()) return;
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> match(
      pcre2_match_data_create_from_pattern(compiled_->code, nullptr), &pcre2_match_data_free);
  if (!match) throw std::bad_alloc();
  const auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t gap_begin = 0;  // start of the text not yet given out
  size_t search = 0;
  while (search <= text.size()) {
    int found = pcre2_match(compiled_->code, subject, text.size(), search, PCRE2_NO_UTF_CHECK,
                            match.get(), nullptr);
    if (found == PCRE2_ERROR_JIT_STACKLIMIT) {
      found = pcre2_match(compiled_->code, subject, text.size(), search,
                          PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, match.get(), nullptr);
    }
    if (found == PCRE2_ERROR_NOMATCH) break;
    if (found < 0) {
      throw std::runtime_error("pre-tokenizer regex failed: " + pcre2_message(found));
    }
    const PCRE2_SIZE* bounds = pcre2_get_ovector_pointer(match.get());
    const size_t begin = bounds[0];
    const size_t end = bounds[1];
    if (begin > gap_begin) out.push_back({text.substr(gap_begin, begin - gap_begin), false});
    if (end > begin) {
      out.push_back({text.substr(begin, end - begin), true});
      gap_begin = end;
      search = end;
    } else {
      gap_begin = begin;  // an empty match gives no piece
      if (begin >= text.size()) break;
      search = begin + utf8_length(static_cast<unsigned char>(text[begin]));
    }
  }
  if (gap_begin < text.size()) out.push_back({text.substr(gap_begin), false});
}

}  // namespace omnirm::text
