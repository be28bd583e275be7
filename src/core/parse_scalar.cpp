// Implementation of core/parse_scalar.h.
#include "omnirm/core/parse_scalar.h"

#include <charconv>
#include <cmath>
#include <system_error>

namespace omnirm {
namespace {

// Drops one leading '+', which std::from_chars does not take. False when a second sign
// follows it ("++1", "+-1") or nothing is left.
bool drop_plus(std::string_view* text) {
  if (text->starts_with('+')) {
    text->remove_prefix(1);
    if (text->starts_with('+') || text->starts_with('-')) return false;
  }
  return !text->empty();
}

}  // namespace

std::optional<int64_t> parse_integer(std::string_view text) {
  if (!drop_plus(&text)) return std::nullopt;
  int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || stop != end) return std::nullopt;
  return value;
}

std::optional<double> parse_number(std::string_view text) {
  // Only digits, sign, point and exponent: no hex floats, no inf or nan spellings.
  if (text.find_first_not_of("0123456789+-.eE") != std::string_view::npos) return std::nullopt;
  if (!drop_plus(&text)) return std::nullopt;
  double value = 0.0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || stop != end || !std::isfinite(value)) return std::nullopt;
  return value;
}

}  // namespace omnirm
