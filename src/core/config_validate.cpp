// validate_config (include/omnirm/core/config.h): each section's own checks
// (config_checks.h), then the checks that relate keys of different sections.
#include <fmt/format.h>

#include "config_checks.h"
#include "omnirm/core/config.h"

namespace omnirm {

void validate_config(const Config& config) {
  using namespace config_checks;
  validate_model(config.model);
  validate_data(config.data);
  // MiniCPM-o's resampler has no temporal positions: its frames are images.
  require(config.model.arch == "minicpmo" || config.data.video_frames <= config.model.max_frames,
          fmt::format("data.video_frames ({}) must not exceed model.max_frames ({}), the "
                      "temporal positions the resampler has",
                      config.data.video_frames, config.model.max_frames));
  require(config.data.video_frames % config.model.video_temporal_patch == 0,
          fmt::format("data.video_frames ({}) must be a multiple of model.video_temporal_patch "
                      "({}), the frames one vision patch spans",
                      config.data.video_frames, config.model.video_temporal_patch));
  validate_train(config.train);
  validate_lora(config.lora);
  validate_eval(config.eval);
  validate_dist(config.dist);
  validate_sharding(config.train, config.dist);
}

}  // namespace omnirm
