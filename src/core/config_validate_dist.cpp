// Validation of the dist section (config_checks.h): data-parallel training.
#include <fmt/format.h>

#include "config_checks.h"

namespace omnirm::config_checks {

void validate_dist(const DistConfig& dist) {
  require_one_of("dist.backend", dist.backend, {"auto", "gloo", "nccl"});
  require(dist.zero_stage == 0 || dist.zero_stage == 1,
          fmt::format("dist.zero_stage must be 0 or 1, got {}", dist.zero_stage));
  require_positive_number("dist.timeout", dist.timeout);
  require_positive_number("dist.bucket_mb", dist.bucket_mb);
}

}  // namespace omnirm::config_checks
