// The configuration's key schema, shared by the YAML reader, the YAML writer and the key
// reference: one row per key saying where its value lives inside Config, through the
// pointer's type what type it has, and what it means. Private to src/core.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "omnirm/core/config.h"

namespace omnirm::config_schema {

// Where one key's value lives; which pointer it holds is the key's type.
using FieldRef = std::variant<int64_t*, double*, bool*, std::string*>;

struct ConfigKey {
  std::string_view path;       // "section.name"
  FieldRef (*field)(Config&);  // the key's value inside a Config
  std::string_view meaning;    // Markdown for docs/config.md (config_reference.cpp)
};

// Every key, grouped by section in the order of sections(); dump_config keeps this order.
std::span<const ConfigKey> keys();

// The section names in file order: model, data, train, lora, eval, dist.
std::span<const std::string_view> sections();

std::string_view section_of(std::string_view path);
std::string_view name_of(std::string_view path);

// The key with this exact "section.name" path, or nullptr.
const ConfigKey* find_key(std::string_view path);
bool is_section(std::string_view name);

// "a, b, c".
std::string join(const std::vector<std::string>& items);

// What to tell a user who wrote an unknown section or key: "did you mean 'train.lr'?" (also
// for a bare "lr") when one is close, else the valid names.
std::string suggest_section(std::string_view section);
std::string suggest_key(std::string_view path);

}  // namespace omnirm::config_schema
