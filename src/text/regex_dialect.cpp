// Implementation of regex_dialect.h: a single pass over the pattern that tracks whether it
// is inside a character class. The added ranges are the code points HF tokenizers 0.23
// (Oniguruma, Unicode 16.0) matches with \p{L} / \p{N} and PCRE2 10.42 does not; no code
// point goes the other way. A PCRE2 with newer tables already has them, which is harmless.
#include "regex_dialect.h"

namespace omnirm::text {
namespace {

// Unicode White_Space: U+0009..U+000D, U+0020, U+0085, U+00A0, U+1680, U+2000..U+200A,
// U+2028, U+2029, U+202F, U+205F, U+3000.
constexpr std::string_view kWhiteSpace =
    R"(\x{9}-\x{d}\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f})"
    R"(\x{3000})";

// Letters new in Unicode 15.0, 15.1 and 16.0.
constexpr std::string_view kNewLetters =
    R"(\x{1c89}-\x{1c8a}\x{a7cb}-\x{a7cd}\x{a7da}-\x{a7dc}\x{105c0}-\x{105f3})"
    R"(\x{10d4a}-\x{10d65}\x{10d6f}-\x{10d85}\x{10ec2}-\x{10ec4}\x{1123f}-\x{11240})"
    R"(\x{11380}-\x{11389}\x{1138b}\x{1138e}\x{11390}-\x{113b5}\x{113b7}\x{113d1}\x{113d3})"
    R"(\x{11bc0}-\x{11be0}\x{11f02}\x{11f04}-\x{11f10}\x{11f12}-\x{11f33}\x{1342f})"
    R"(\x{13441}-\x{13446}\x{13460}-\x{143fa}\x{16100}-\x{1611d}\x{16d40}-\x{16d6c}\x{18cff})"
    R"(\x{1b132}\x{1b155}\x{1df25}-\x{1df2a}\x{1e030}-\x{1e06d}\x{1e4d0}-\x{1e4eb})"
    R"(\x{1e5d0}-\x{1e5ed}\x{1e5f0}\x{2b739}\x{2ebf0}-\x{2ee5d}\x{31350}-\x{323af})";

// Numbers new in Unicode 15.0, 15.1 and 16.0.
constexpr std::string_view kNewNumbers =
    R"(\x{10d40}-\x{10d49}\x{116d0}-\x{116e3}\x{11bf0}-\x{11bf9}\x{11f50}-\x{11f59})"
    R"(\x{16130}-\x{16139}\x{16d70}-\x{16d79}\x{1ccf0}-\x{1ccf9}\x{1d2c0}-\x{1d2d3})"
    R"(\x{1e4f0}-\x{1e4f9}\x{1e5f1}-\x{1e5fa})";

struct Rewrite {
  std::string_view escape;   // after the backslash
  std::string_view outside;  // replacement outside a class ("" for none)
  std::string_view inside;   // replacement inside a class ("" to keep the escape)
};

std::string with(std::string_view a, std::string_view b = {}, std::string_view c = {},
                 std::string_view d = {}) {
  std::string out(a);
  out += b;
  out += c;
  out += d;
  return out;
}

}  // namespace

std::string oniguruma_to_pcre2(std::string_view pattern) {
  static const std::string s_out = with("[", kWhiteSpace, "]");
  static const std::string not_s_out = with("[^", kWhiteSpace, "]");
  static const std::string l_out = with(R"([\p{L})", kNewLetters, "]");
  static const std::string not_l_out = with(R"([^\p{L})", kNewLetters, "]");
  static const std::string n_out = with(R"([\p{N})", kNewNumbers, "]");
  static const std::string not_n_out = with(R"([^\p{N})", kNewNumbers, "]");
  static const std::string l_in = with(R"(\p{L})", kNewLetters);
  static const std::string n_in = with(R"(\p{N})", kNewNumbers);
  const Rewrite rewrites[] = {
      {"s", s_out, kWhiteSpace}, {"S", not_s_out, ""},    {"p{L}", l_out, l_in},
      {"p{N}", n_out, n_in},     {"P{L}", not_l_out, ""}, {"P{N}", not_n_out, ""},
  };

  std::string out;
  out.reserve(pattern.size() * 2);
  bool in_class = false;
  size_t class_start = 0;  // where the class's contents begin (after '[' or "[^")
  for (size_t at = 0; at < pattern.size();) {
    const char c = pattern[at];
    if (c == '\\' && at + 1 < pattern.size()) {
      const std::string_view rest = pattern.substr(at + 1);
      if (rest[0] == 'Q') {  // \Q...\E: literal text, copied as is
        const size_t end = pattern.find("\\E", at + 2);
        const size_t stop = end == std::string_view::npos ? pattern.size() : end + 2;
        out.append(pattern.substr(at, stop - at));
        at = stop;
        continue;
      }
      bool rewritten = false;
      for (const Rewrite& rewrite : rewrites) {
        if (rest.substr(0, rewrite.escape.size()) != rewrite.escape) continue;
        const std::string_view replacement = in_class ? rewrite.inside : rewrite.outside;
        if (!replacement.empty()) {
          out.append(replacement);
          at += 1 + rewrite.escape.size();
          rewritten = true;
        }
        break;
      }
      if (!rewritten) {
        out.append(pattern.substr(at, 2));
        at += 2;
      }
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      ++at;
      if (at < pattern.size() && pattern[at] == '^') out += pattern[at++];
      class_start = at;
      continue;
    }
    if (in_class && c == '[' && pattern.substr(at, 2) == "[:") {  // POSIX class
      const size_t end = pattern.find(":]", at + 2);
      const size_t stop = end == std::string_view::npos ? at + 1 : end + 2;
      out.append(pattern.substr(at, stop - at));
      at = stop;
      continue;
    }
    if (in_class && c == ']' && at != class_start) in_class = false;  // a leading ']' is literal
    out += c;
    ++at;
  }
  return out;
}

}  // namespace omnirm::text
