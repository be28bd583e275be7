// Validation of the data section (config_checks.h).
#include <fmt/format.h>

#include "config_checks.h"

namespace omnirm::config_checks {

void validate_data(const DataConfig& data) {
  require(data.max_length >= 8,
          fmt::format("data.max_length must be at least 8, got {}", data.max_length));
  require_one_of("data.truncation", data.truncation, {"truncate", "drop"});
  require_one_of("data.on_bad_record", data.on_bad_record, {"error", "skip"});
  require_non_negative("data.num_workers", data.num_workers);
  require_positive("data.prefetch", data.prefetch);
  require_non_negative("data.micro_batch_tokens", data.micro_batch_tokens);
  require_positive_number("data.video_fps", data.video_fps);
  require_positive("data.video_frames", data.video_frames);
  require_positive("data.video_max_pixels", data.video_max_pixels);
  require_non_negative("data.media_cache_mb", data.media_cache_mb);
}

}  // namespace omnirm::config_checks
