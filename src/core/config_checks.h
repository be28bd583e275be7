// What validate_config (include/omnirm/core/config.h) is made of: the checks that name a key
// and what it must be, and one validator per section, each in its own file. Every check
// throws UserError with a one-line message naming the key path and the value it got.
// Private to src/core.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "omnirm/core/config.h"

namespace omnirm::config_checks {

void require(bool condition, const std::string& message);
void require_positive(std::string_view path, int64_t value);
void require_non_negative(std::string_view path, int64_t value);
// Every comparison with NaN is false, so NaN fails the number checks too.
void require_positive_number(std::string_view path, double value);
void require_non_negative_number(std::string_view path, double value);
// value in [0, 1), or [0, 1] when one_allowed.
void require_fraction(std::string_view path, double value, bool one_allowed);
void require_one_of(std::string_view path, const std::string& value,
                    std::initializer_list<std::string_view> allowed);
// `path` (value) must be divisible by `divisor_path` (divisor); divisor is positive.
void require_divisible(std::string_view path, int64_t value, std::string_view divisor_path,
                       int64_t divisor);

// One section each; checks that span sections live in validate_config.
void validate_model(const ModelConfig& model);  // config_validate_model.cpp
void validate_data(const DataConfig& data);     // config_validate_data.cpp
void validate_train(const TrainConfig& train);  // config_validate_train.cpp
void validate_lora(const LoraConfig& lora);     // config_validate_train.cpp
void validate_eval(const EvalConfig& eval);     // config_validate_train.cpp
void validate_dist(const DistConfig& dist);     // config_validate_dist.cpp
// What the sharded optimizer (train.param_dtype bf16, dist.zero_stage 2 and 3) can serve.
void validate_sharding(const TrainConfig& train,
                       const DistConfig& dist);  // config_validate_dist.cpp

}  // namespace omnirm::config_checks
