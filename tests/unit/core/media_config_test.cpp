// Tests of the media keys of the configuration (model towers, data.video_*, media cache):
// defaults keep a text-only model, misspelt media keys get suggestions, and every
// cross-field check fails with one line naming the keys involved.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "omnirm/core/config.h"
#include "omnirm/core/error.h"
#include "support/test_support.h"

namespace omnirm {
namespace {

using testing::user_error_of;

TEST(MediaConfig, DefaultsGiveATextOnlyModel) {
  const Config config = parse_config("", "empty.yaml");
  EXPECT_EQ(config.model.vision_layers, 0);
  EXPECT_EQ(config.model.audio_layers, 0);
  EXPECT_EQ(config.model.point_layers, 0);
  EXPECT_FALSE(config.model.freeze_vision);
  EXPECT_EQ(config.data.video_frames, 4);
  EXPECT_EQ(config.data.video_fps, 2.0);
}

TEST(MediaConfig, MediaKeysReadFromYamlAndOverrides) {
  const Config config = parse_config("model:\n  vision_layers: 2\n  image_tokens: 4\n", "m.yaml",
                                     {"model.freeze_audio=true", "data.video_fps=0.5"});
  EXPECT_EQ(config.model.vision_layers, 2);
  EXPECT_EQ(config.model.image_tokens, 4);
  EXPECT_TRUE(config.model.freeze_audio);
  EXPECT_EQ(config.data.video_fps, 0.5);
  const std::string dumped = dump_config(config);
  EXPECT_NE(dumped.find("\n  vision_layers: 2\n"), std::string::npos) << dumped;
  EXPECT_NE(dumped.find("\n  video_fps: 0.5\n"), std::string::npos) << dumped;
}

TEST(MediaConfig, MisspeltMediaKeysGetSuggestions) {
  const std::string message =
      user_error_of([] { parse_config("model:\n  vision_layer: 2\n", "m.yaml"); });
  EXPECT_NE(message.find("did you mean 'model.vision_layers'?"), std::string::npos) << message;
  const std::string override_message =
      user_error_of([] { parse_config("", "m.yaml", {"model.freeze_point=true"}); });
  EXPECT_NE(override_message.find("did you mean 'model.freeze_points'?"), std::string::npos)
      << override_message;
  const std::string data_message =
      user_error_of([] { parse_config("data:\n  video_frame: 3\n", "m.yaml"); });
  EXPECT_NE(data_message.find("did you mean 'data.video_frames'?"), std::string::npos)
      << data_message;
}

struct MediaCase {
  std::string name;
  std::function<void(Config&)> change;
  std::vector<std::string> expected_in_message;
};

TEST(MediaConfig, ValidateNamesTheMediaKeys) {
  const std::vector<MediaCase> cases = {
      {"negative vision layers",
       [](Config& c) { c.model.vision_layers = -1; },
       {"model.vision_layers"}},
      {"vision heads divide width",
       [](Config& c) { c.model.vision_heads = 5; },
       {"model.vision_hidden (64)", "model.vision_heads (5)"}},
      {"patches tile the image",
       [](Config& c) { c.model.patch_size = 5; },
       {"model.image_size (32)", "model.patch_size (5)"}},
      {"zero patch size", [](Config& c) { c.model.patch_size = 0; }, {"model.patch_size"}},
      {"image tokens", [](Config& c) { c.model.image_tokens = 0; }, {"model.image_tokens"}},
      {"max frames", [](Config& c) { c.model.max_frames = 0; }, {"model.max_frames"}},
      {"audio heads divide width",
       [](Config& c) { c.model.audio_heads = 3; },
       {"model.audio_hidden (64)", "model.audio_heads (3)"}},
      {"odd audio width",
       [](Config& c) {
         c.model.audio_hidden = 3;
         c.model.audio_heads = 1;
       },
       {"model.audio_hidden", "even"}},
      {"mel bins", [](Config& c) { c.model.mel_bins = 0; }, {"model.mel_bins"}},
      {"clip shorter than the pool",
       [](Config& c) { c.model.audio_frames = 7; },
       {"model.audio_frames (7)", "model.audio_pool_stride (5)"}},
      {"pool stride",
       [](Config& c) { c.model.audio_pool_stride = 0; },
       {"model.audio_pool_stride"}},
      {"point heads divide width",
       [](Config& c) { c.model.point_heads = 6; },
       {"model.point_hidden (64)", "model.point_heads (6)"}},
      {"groups within the cloud",
       [](Config& c) { c.model.point_groups = 600; },
       {"model.point_groups (600)", "model.num_points (512)"}},
      {"group size within the cloud",
       [](Config& c) {
         c.model.num_points = 8;
         c.model.point_groups = 4;
       },
       {"model.point_group_size (16)", "model.num_points (8)"}},
      {"negative resampler width",
       [](Config& c) { c.model.resampler_hidden = -8; },
       {"model.resampler_hidden"}},
      {"resampler heads divide its width",
       [](Config& c) { c.model.resampler_hidden = 30; },
       {"model.resampler_hidden (30)", "model.vision_heads (4)"}},
      {"video fps", [](Config& c) { c.data.video_fps = 0.0; }, {"data.video_fps"}},
      {"video frames", [](Config& c) { c.data.video_frames = 0; }, {"data.video_frames"}},
      {"cache size", [](Config& c) { c.data.media_cache_mb = -1; }, {"data.media_cache_mb"}},
      {"frames within the temporal positions",
       [](Config& c) { c.data.video_frames = 17; },
       {"data.video_frames (17)", "model.max_frames (16)"}},
  };
  for (const MediaCase& test_case : cases) {
    Config config;
    test_case.change(config);
    const std::string message = user_error_of([&] { validate_config(config); });
    EXPECT_EQ(message.find('\n'), std::string::npos) << test_case.name << ": " << message;
    for (const std::string& expected : test_case.expected_in_message) {
      EXPECT_NE(message.find(expected), std::string::npos)
          << test_case.name << ": '" << expected << "' not in: " << message;
    }
  }
}

TEST(MediaConfig, ResamplerWidthDefaultsToTheVisionWidthAndIsRead) {
  EXPECT_EQ(parse_config("", "m.yaml").model.resampler_hidden, 0);
  const Config config =
      parse_config("model:\n  vision_layers: 1\n  resampler_hidden: 128\n", "m.yaml");
  EXPECT_EQ(config.model.resampler_hidden, 128);
  EXPECT_NE(dump_config(config).find("\n  resampler_hidden: 128\n"), std::string::npos);
  const std::string message =
      user_error_of([] { parse_config("model:\n  resampler_hidden: 30\n", "m.yaml"); });
  EXPECT_NE(message.find("model.resampler_hidden (30) must be divisible by model.vision_heads"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

}  // namespace
}  // namespace omnirm
