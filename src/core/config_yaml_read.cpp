// Reading the configuration (include/omnirm/core/config.h): a YAML document, then
// "section.key=value" overrides in order, every key checked against the schema
// (config_schema.h) and typed by it, then validate_config. Scalars follow the YAML 1.2 core
// schema: integers are whole decimal numbers, numbers also take a fraction and exponent,
// booleans are true/false.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "config_schema.h"
#include "omnirm/core/config.h"
#include "omnirm/core/error.h"
#include "omnirm/core/parse_scalar.h"

namespace omnirm {
namespace {

using config_schema::ConfigKey;
using config_schema::FieldRef;

[[noreturn]] void fail(std::string_view origin, const std::string& message) {
  throw UserError(fmt::format("{}: {}", origin, message));
}

std::string section_list() {
  const auto sections = config_schema::sections();
  return config_schema::join({sections.begin(), sections.end()});
}

std::string describe_value(const YAML::Node& node) {
  if (node.IsSequence()) return "a sequence";
  if (node.IsMap()) return "a mapping";
  if (node.IsNull()) return "an empty value";
  return fmt::format("'{}'", node.Scalar());
}

int line_of(const YAML::Node& node) { return node.Mark().line + 1; }

// ---------------------------------------------------------------------------------------
// Typed scalars.

std::optional<bool> parse_bool(std::string_view text) {
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return std::nullopt;
}

[[noreturn]] void reject_value(std::string_view origin, std::string_view where,
                               std::string_view expected, const YAML::Node& value) {
  fail(origin, fmt::format("{}: expected {}, got {}", where, expected, describe_value(value)));
}

// Stores `value` into `key`'s field of `config`. `where` names the key in messages, e.g.
// "train.lr (line 12)".
void assign_value(Config& config, const ConfigKey& key, const YAML::Node& value,
                  std::string_view origin, std::string_view where) {
  const FieldRef field = key.field(config);
  const std::string text = value.IsScalar() ? value.Scalar() : std::string();
  if (int64_t* const* integer = std::get_if<int64_t*>(&field)) {
    const std::optional<int64_t> parsed = value.IsScalar() ? parse_integer(text) : std::nullopt;
    if (!parsed) reject_value(origin, where, "an integer", value);
    **integer = *parsed;
  } else if (double* const* number = std::get_if<double*>(&field)) {
    const std::optional<double> parsed = value.IsScalar() ? parse_number(text) : std::nullopt;
    if (!parsed) reject_value(origin, where, "a number", value);
    **number = *parsed;
  } else if (bool* const* boolean = std::get_if<bool*>(&field)) {
    const std::optional<bool> parsed = value.IsScalar() ? parse_bool(text) : std::nullopt;
    if (!parsed) reject_value(origin, where, "a boolean (true or false)", value);
    **boolean = *parsed;
  } else if (std::string* const* string = std::get_if<std::string*>(&field)) {
    // An empty value (`key:` or `~`) is the empty string.
    if (!value.IsScalar() && !value.IsNull()) reject_value(origin, where, "a string", value);
    **string = text;
  }
}

// ---------------------------------------------------------------------------------------
// YAML documents.

YAML::Node parse_yaml(const std::string& text, std::string_view origin) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& error) {
    if (error.mark.is_null()) fail(origin, fmt::format("invalid YAML: {}", error.msg));
    fail(origin, fmt::format("invalid YAML at line {}, column {}: {}", error.mark.line + 1,
                             error.mark.column + 1, error.msg));
  }
}

std::string key_text(const YAML::Node& key, std::string_view origin) {
  if (!key.IsScalar()) {
    fail(origin, fmt::format("line {}: keys must be plain names, got {}", line_of(key),
                             describe_value(key)));
  }
  return key.Scalar();
}

// Rejects a key met twice; `first_lines` remembers where each key was first seen.
void check_not_repeated(std::map<std::string, int>& first_lines, const std::string& path, int line,
                        std::string_view origin) {
  const auto [entry, inserted] = first_lines.emplace(path, line);
  if (!inserted) {
    fail(origin,
         fmt::format("'{}' is given twice (lines {} and {}); keep one", path, entry->second, line));
  }
}

void apply_section(Config& config, const std::string& section, const YAML::Node& body,
                   std::map<std::string, int>& first_lines, std::string_view origin) {
  for (const auto& entry : body) {
    const std::string path = section + "." + key_text(entry.first, origin);
    const int line = line_of(entry.first);
    const ConfigKey* key = config_schema::find_key(path);
    if (key == nullptr) {
      fail(origin, fmt::format("unknown key '{}' (line {}); {}", path, line,
                               config_schema::suggest_key(path)));
    }
    check_not_repeated(first_lines, path, line, origin);
    assign_value(config, *key, entry.second, origin, fmt::format("{} (line {})", path, line));
  }
}

void apply_document(Config& config, const YAML::Node& root, std::string_view origin) {
  if (root.IsNull()) return;  // an empty document keeps the defaults
  if (!root.IsMap()) {
    fail(origin, fmt::format("the top level must be a mapping of sections ({}), got {}",
                             section_list(), describe_value(root)));
  }
  std::map<std::string, int> first_lines;
  for (const auto& entry : root) {
    const std::string section = key_text(entry.first, origin);
    const int line = line_of(entry.first);
    if (config_schema::find_key(section) != nullptr) {
      fail(origin,
           fmt::format("unknown section '{}' (line {}); write '{}:' and under it '  {}:'", section,
                       line, config_schema::section_of(section), config_schema::name_of(section)));
    }
    if (!config_schema::is_section(section)) {
      fail(origin, fmt::format("unknown section '{}' (line {}); {}", section, line,
                               config_schema::suggest_section(section)));
    }
    check_not_repeated(first_lines, section, line, origin);
    const YAML::Node& body = entry.second;
    if (body.IsNull()) continue;  // `train:` with nothing under it
    if (!body.IsMap()) {
      fail(origin, fmt::format("section '{}' (line {}) must be a mapping of keys, got {}", section,
                               line, describe_value(body)));
    }
    apply_section(config, section, body, first_lines, origin);
  }
}

// ---------------------------------------------------------------------------------------
// Overrides.

std::string trim(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return "";
  const std::size_t last = text.find_last_not_of(" \t");
  return std::string(text.substr(first, last - first + 1));
}

// Applies one "section.key=value" string; the value is read as a YAML scalar.
void apply_override(Config& config, const std::string& assignment) {
  const std::string origin = fmt::format("override '{}'", assignment);
  const std::size_t equals = assignment.find('=');
  const std::string path = trim(assignment.substr(0, equals));
  if (equals == std::string::npos || path.empty()) {
    fail(origin, "expected section.key=value, e.g. train.lr=1e-4");
  }
  const ConfigKey* key = config_schema::find_key(path);
  if (key == nullptr) {
    fail(origin, fmt::format("unknown key '{}'; {}", path, config_schema::suggest_key(path)));
  }
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(equals + 1));
  } catch (const YAML::Exception& error) {
    fail(origin, fmt::format("{}: the value is not valid YAML ({}); quote it", path, error.msg));
  }
  assign_value(config, *key, value, origin, path);
}

}  // namespace

Config parse_config(const std::string& yaml_text, const std::string& origin,
                    const std::vector<std::string>& overrides) {
  Config config;
  apply_document(config, parse_yaml(yaml_text, origin), origin);
  for (const std::string& assignment : overrides) apply_override(config, assignment);
  validate_config(config);
  return config;
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  if (path.empty()) return parse_config("", "defaults", overrides);
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    throw UserError(fmt::format("{}: config file not found; check the path", path));
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) throw UserError(fmt::format("{}: cannot read the config file", path));
  std::ostringstream text;
  text << file.rdbuf();
  return parse_config(text.str(), path, overrides);
}

}  // namespace omnirm
