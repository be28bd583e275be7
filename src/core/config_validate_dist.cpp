// Validation of the dist section (config_checks.h): data-parallel training and the ZeRO
// stages, and which precision settings the sharded optimizer can serve.
#include <fmt/format.h>

#include "config_checks.h"

namespace omnirm::config_checks {

void validate_dist(const DistConfig& dist) {
  require_one_of("dist.backend", dist.backend, {"auto", "gloo", "nccl"});
  require(dist.zero_stage >= 0 && dist.zero_stage <= 3,
          fmt::format("dist.zero_stage must be 0, 1, 2 or 3, got {}", dist.zero_stage));
  require_one_of("dist.reduce_dtype", dist.reduce_dtype, {"fp32", "bf16"});
  require_positive_number("dist.timeout", dist.timeout);
  require_positive_number("dist.bucket_mb", dist.bucket_mb);
}

void validate_sharding(const TrainConfig& train, const DistConfig& dist) {
  const bool bf16_params = train.param_dtype == "bf16";
  require(!bf16_params || train.precision == "bf16",
          fmt::format("train.param_dtype: bf16 parameters compute in bf16 and need "
                      "train.precision: bf16, got '{}'",
                      train.precision));
  require(dist.zero_stage < 2 || train.precision != "fp16",
          fmt::format("dist.zero_stage: stage {} has no fp16 loss scaling; use "
                      "train.precision: bf16 (or fp32)",
                      dist.zero_stage));
  require(dist.reduce_dtype == "fp32" || bf16_params || dist.zero_stage >= 2,
          "dist.reduce_dtype: bf16 reduction needs the sharded optimizer (train.param_dtype: "
          "bf16 or dist.zero_stage 2 or 3); fp32 parameters at stage 0 and 1 reduce in fp32");
}

}  // namespace omnirm::config_checks
