// Implementation of data/synth_template.h.
#include "omnirm/data/synth_template.h"

#include <stdexcept>

namespace omnirm::data {

std::string fill_template(std::string_view pattern, const SlotLookup& lookup) {
  std::string out;
  size_t position = 0;
  while (position < pattern.size()) {
    const size_t open = pattern.find('{', position);
    if (open == std::string_view::npos) {
      out += pattern.substr(position);
      break;
    }
    const size_t close = pattern.find('}', open);
    if (close == std::string_view::npos) {
      throw std::logic_error("synth template without closing brace: " + std::string(pattern));
    }
    out += pattern.substr(position, open - position);
    const std::string_view name = pattern.substr(open + 1, close - open - 1);
    const std::optional<std::string_view> value = lookup(name);
    if (!value) {
      throw std::logic_error("synth template slot {" + std::string(name) + "} has no value");
    }
    out += *value;
    position = close + 1;
  }
  return out;
}

}  // namespace omnirm::data
