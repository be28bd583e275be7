// Writing the configuration as YAML (dump_config in include/omnirm/core/config.h), with
// yaml-cpp's emitter, every key of the schema (config_schema.h) in its order, so that
// parse_config(dump_config(c)) == c: strings are double-quoted (so "", "true" or "1e3" read
// back as strings), numbers are the shortest text that reads back as the same double.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cmath>

#include "config_schema.h"
#include "omnirm/core/config.h"

namespace omnirm {
namespace {

using config_schema::ConfigKey;
using config_schema::FieldRef;

// The shortest decimal text that reads back as the same double, always with a '.' in the
// mantissa so that YAML 1.1 readers see a float too ("100.0", "1.0e-08").
std::string format_number(double value) {
  if (std::isnan(value)) return ".nan";
  if (std::isinf(value)) return value > 0 ? ".inf" : "-.inf";
  std::string text = fmt::format("{}", value);
  if (text.find('.') == std::string::npos) {
    const std::size_t exponent = text.find('e');
    text.insert(exponent == std::string::npos ? text.size() : exponent, ".0");
  }
  return text;
}

void emit_value(YAML::Emitter& out, const FieldRef& field) {
  if (int64_t* const* integer = std::get_if<int64_t*>(&field)) {
    out << **integer;
  } else if (double* const* number = std::get_if<double*>(&field)) {
    // yaml-cpp would print max_digits10 digits (0.10000000000000001); the shortest text
    // reads back the same and is what a person would write.
    out << format_number(**number);
  } else if (bool* const* boolean = std::get_if<bool*>(&field)) {
    out << YAML::TrueFalseBool << **boolean;
  } else {
    out << YAML::DoubleQuoted << *std::get<std::string*>(field);
  }
}

}  // namespace

std::string dump_config(const Config& config) {
  Config copy = config;  // the schema hands out mutable field pointers, so read a copy
  YAML::Emitter out;
  out << YAML::BeginMap;
  std::string_view current_section;
  for (const ConfigKey& key : config_schema::keys()) {
    const std::string_view section = config_schema::section_of(key.path);
    if (section != current_section) {
      if (!current_section.empty()) out << YAML::EndMap;
      current_section = section;
      out << YAML::Key << std::string(section) << YAML::Value << YAML::BeginMap;
    }
    out << YAML::Key << std::string(config_schema::name_of(key.path)) << YAML::Value;
    emit_value(out, key.field(copy));
  }
  if (!current_section.empty()) out << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace omnirm
