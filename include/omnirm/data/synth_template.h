// Filling the synthetic data's sentence templates: every "{name}" of a pattern is replaced by
// the value of slot `name`. A missing slot or an unclosed brace is a bug in the templates
// (std::logic_error), not a user error.
#pragma once

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace omnirm::data {

using SlotLookup = std::function<std::optional<std::string_view>(std::string_view name)>;

std::string fill_template(std::string_view pattern, const SlotLookup& lookup);

// `slots`: any range of (name, value) pairs whose members convert to std::string_view.
template <typename Slots>
std::string fill_template(std::string_view pattern, const Slots& slots) {
  const SlotLookup lookup = [&](std::string_view name) -> std::optional<std::string_view> {
    for (const auto& [slot, value] : slots) {
      if (std::string_view(slot) == name) return std::string_view(value);
    }
    return std::nullopt;
  };
  return fill_template(pattern, lookup);
}

}  // namespace omnirm::data
