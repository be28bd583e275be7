// Numbers from text, strictly: the one parser behind config values, environment variables and
// the small NAME=VALUE option lists, so that all of them accept and refuse the same spellings.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace omnirm {

// The value of `text` when it is a base-10 integer that fits int64 — an optional sign
// ('+' or '-') then digits, nothing before or after; nullopt otherwise (empty, "12a", "1.0",
// " 3", "0x10", "++1", out of range).
std::optional<int64_t> parse_integer(std::string_view text);

// The value of `text` when it is a finite decimal number — optional sign, digits with an
// optional fraction, optional exponent ("5e-4", "-2.5", "+1"); nullopt otherwise (empty,
// "inf", "nan", "0x1p3", "1e999", trailing text).
std::optional<double> parse_number(std::string_view text);

}  // namespace omnirm
