// The key checks of config_checks.h.
#include "config_checks.h"

#include <fmt/format.h>

#include <cmath>
#include <vector>

#include "config_schema.h"
#include "omnirm/core/error.h"

namespace omnirm::config_checks {

void require(bool condition, const std::string& message) {
  if (!condition) throw UserError(message);
}

void require_positive(std::string_view path, int64_t value) {
  require(value > 0, fmt::format("{} must be positive, got {}", path, value));
}

void require_non_negative(std::string_view path, int64_t value) {
  require(value >= 0, fmt::format("{} must be 0 or more, got {}", path, value));
}

void require_positive_number(std::string_view path, double value) {
  require(value > 0.0 && std::isfinite(value),
          fmt::format("{} must be a positive number, got {}", path, value));
}

void require_non_negative_number(std::string_view path, double value) {
  require(value >= 0.0 && std::isfinite(value),
          fmt::format("{} must be 0 or more, got {}", path, value));
}

void require_fraction(std::string_view path, double value, bool one_allowed) {
  const bool below_top = one_allowed ? value <= 1.0 : value < 1.0;
  require(value >= 0.0 && below_top,
          fmt::format("{} must be in [0, 1{}, got {}", path, one_allowed ? "]" : ")", value));
}

void require_one_of(std::string_view path, const std::string& value,
                    std::initializer_list<std::string_view> allowed) {
  std::vector<std::string> names;
  for (std::string_view name : allowed) {
    if (value == name) return;
    names.emplace_back(name);
  }
  throw UserError(
      fmt::format("{} must be one of {}, got '{}'", path, config_schema::join(names), value));
}

void require_divisible(std::string_view path, int64_t value, std::string_view divisor_path,
                       int64_t divisor) {
  require(value % divisor == 0,
          fmt::format("{} ({}) must be divisible by {} ({})", path, value, divisor_path, divisor));
}

}  // namespace omnirm::config_checks
