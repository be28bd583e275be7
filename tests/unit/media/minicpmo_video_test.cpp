// Video on the MiniCPM-o path against the reference pipeline (tests/fixtures/minicpmo/, from
// tools/make_minicpmo_fixtures.py: LLaMA-Factory's MiniCPM-V plugin decoding with PyAV, then
// MiniCPM-o-2.6's image processor):
//   frame indices — the plugin's linspace rule over the frame count and duration the stream
//                   declares (its first frames when none is declared, as in Matroska), exactly;
//   frames        — omnirm's FFmpeg decoder against the frames PyAV gave the plugin (PNG), byte
//                   for byte: RGB video (H.264 4:4:4 RGB, FFV1), whose decoded samples are the
//                   pixels, and 4:2:0 video, whose RGB omnirm converts as PyAV does
//                   (VideoRgb::pyav: libswscale's defaults, its unscaled fast path); omnirm's
//                   own accurate conversion is shown to differ, so the test can tell them apart;
//   frame slices  — each frame capped at data.video_max_pixels (nearest) and resized as an
//                   unsliced image (bicubic), bit for bit against the reference's pixels.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "omnirm/io/safetensors.h"
#include "omnirm/media/image.h"
#include "omnirm/media/image_slices.h"
#include "omnirm/media/media_write.h"
#include "omnirm/media/video.h"
#include "support/test_support.h"

namespace {

using omnirm::media::VideoOptions;
using omnirm::media::VideoSampling;

std::string fixture(const std::string& name) {
  return std::string(OMNIRM_SOURCE_DIR) + "/tests/fixtures/minicpmo/" + name;
}

// The fixture's video settings (reference.json's meta.video): the recipe's video_maxlen 4 and
// video_fps 2, the frame cap scaled to the tiny slice resolution (56²).
VideoOptions plugin_options() {
  VideoOptions options;
  options.max_fps = 2.0;
  options.max_frames = 4;
  options.max_side = 0;
  options.sampling = VideoSampling::plugin_linspace;
  options.rgb = omnirm::media::VideoRgb::pyav;
  return options;
}

omnirm::media::SliceOptions frame_slicing() {
  omnirm::media::SliceOptions options;
  options.max_slices = 2;
  options.resolution = 56;
  options.patch = 14;
  options.max_pixels = 56 * 56;
  return options;
}

// One video of one sequence, as the reference saw it.
struct ReferenceVideo {
  std::string case_id, side, path;
  std::vector<int64_t> indices;
  std::vector<std::string> frame_files;
  bool exact = true;
  int64_t first_slice = 0;  // index of its first frame among the sequence's pixels/i
};

struct Reference {
  nlohmann::json root;
  std::map<std::string, at::Tensor> tensors;
  std::vector<ReferenceVideo> videos;

  at::Tensor pixels(const std::string& case_id, const std::string& side, int64_t index) const {
    const std::string suffix = "/pixels/" + std::to_string(index);
    auto found = tensors.find(case_id + "/" + side + suffix);
    if (found == tensors.end()) found = tensors.find(case_id + "/chosen" + suffix);
    return found == tensors.end() ? at::Tensor() : found->second;
  }
};

const Reference& reference() {
  static const Reference* loaded = [] {
    auto* r = new Reference;
    std::ifstream in(fixture("reference.json"));
    r->root = nlohmann::json::parse(in);
    for (auto& [key, value] :
         omnirm::io::load_safetensors(fixture("reference.safetensors")).tensors)
      r->tensors[key] = value;
    std::map<std::string, nlohmann::json> records;
    std::ifstream pairs(fixture("pairs.jsonl"));
    for (std::string line; std::getline(pairs, line);) {
      const nlohmann::json record = nlohmann::json::parse(line);
      records[record["id"].get<std::string>()] = record;
    }
    for (const auto& [case_id, sides] : r->root["cases"].items()) {
      for (const char* side : {"chosen", "rejected"}) {
        const nlohmann::json& seq = sides[side];
        if (!seq.contains("video_frames")) continue;
        // The sequence's videos in token order: the prompt's, then the response's.
        std::vector<std::string> paths;
        const nlohmann::json& record = records.at(case_id);
        for (const auto& turn : record["prompt"])
          for (const auto& part : turn["content"])
            if (part["type"] == "video") paths.push_back(part["path"].get<std::string>());
        for (const auto& part : record[side]["content"])
          if (part["type"] == "video") paths.push_back(part["path"].get<std::string>());
        int64_t slice = 0;
        for (size_t v = 0; v < paths.size(); ++v) {
          ReferenceVideo video;
          video.case_id = case_id;
          video.side = side;
          video.path = paths[v];
          video.indices = seq["video_frames"][v].get<std::vector<int64_t>>();
          video.frame_files = seq["video_frame_files"][v].get<std::vector<std::string>>();
          video.exact = seq["frames_exact"].get<bool>();
          video.first_slice = slice;
          slice += static_cast<int64_t>(video.indices.size());
          r->videos.push_back(video);
        }
      }
    }
    return r;
  }();
  return *loaded;
}

TEST(MinicpmoVideo, PluginIndicesFollowNumpysLinspaceOverTheDeclaredFrames) {
  const VideoOptions options = plugin_options();
  using Indices = std::vector<int64_t>;
  // n = min(M, 4, floor(D · 2)) at linspace(0, M − 1, n), truncated.
  EXPECT_EQ(omnirm::media::plugin_frame_indices(16, 3.2, options), (Indices{0, 5, 10, 15}));
  EXPECT_EQ(omnirm::media::plugin_frame_indices(7, 1.75, options), (Indices{0, 3, 6}));
  EXPECT_EQ(omnirm::media::plugin_frame_indices(11, 5.0, options), (Indices{0, 3, 6, 10}));
  EXPECT_EQ(omnirm::media::plugin_frame_indices(5, 60.0, options), (Indices{0, 1, 2, 4}));
  EXPECT_EQ(omnirm::media::plugin_frame_indices(2, 60.0, options), (Indices{0, 1}));
  EXPECT_EQ(omnirm::media::plugin_frame_indices(1, 60.0, options), (Indices{0}));
  // A 30 s clip at 30 fps: the first and last frames, two between.
  EXPECT_EQ(omnirm::media::plugin_frame_indices(900, 30.0, options), (Indices{0, 299, 599, 899}));
  // No declared frame count: the first video_maxlen frames, whatever the duration.
  EXPECT_EQ(omnirm::media::plugin_frame_indices(0, 100.0, options), (Indices{0, 1, 2, 3}));
  // Under half a second at 2 fps: nothing (the caller refuses such a video).
  EXPECT_TRUE(omnirm::media::plugin_frame_indices(12, 0.49, options).empty());
}

TEST(MinicpmoVideo, DecodedFramesAreTheReferencesAtItsIndices) {
  const Reference& r = reference();
  ASSERT_GE(r.videos.size(), 4u);
  int rgb_frames = 0, yuv_frames = 0, accurate_differs = 0;
  for (const ReferenceVideo& ref : r.videos) {
    SCOPED_TRACE(ref.case_id + "/" + ref.side + " " + ref.path);
    const omnirm::media::Video video =
        omnirm::media::decode_video(fixture(ref.path), plugin_options());
    // omnirm's own conversion (accurate rounding, interpolated chroma) on the same frames.
    VideoOptions accurate_options = plugin_options();
    accurate_options.rgb = omnirm::media::VideoRgb::accurate;
    const omnirm::media::Video accurate =
        omnirm::media::decode_video(fixture(ref.path), accurate_options);
    ASSERT_EQ(video.frames.size(), ref.indices.size());
    ASSERT_EQ(accurate.frames.size(), ref.indices.size());
    for (size_t i = 0; i < video.frames.size(); ++i) {
      EXPECT_EQ(video.frames[i].index, ref.indices[i]);
      const omnirm::media::Image expected =
          omnirm::media::decode_image(fixture(ref.frame_files[i]));
      const omnirm::media::Image& got = video.frames[i].image;
      ASSERT_EQ(got.width, expected.width);
      ASSERT_EQ(got.height, expected.height);
      EXPECT_TRUE(got.pixels == expected.pixels) << "frame " << ref.indices[i];
      if (ref.exact) {
        ++rgb_frames;
      } else {
        ++yuv_frames;
        accurate_differs += accurate.frames[i].image.pixels != expected.pixels ? 1 : 0;
      }
    }
  }
  std::printf(
      "[minicpmo] video frames identical to PyAV's: %d RGB-coded, %d 4:2:0 (omnirm's accurate "
      "conversion differs on %d of them)\n",
      rgb_frames, yuv_frames, accurate_differs);
  EXPECT_GE(rgb_frames, 8);
  EXPECT_GE(yuv_frames, 4);
  EXPECT_EQ(accurate_differs, yuv_frames) << "the 4:2:0 clip no longer tells the conversions apart";
}

TEST(MinicpmoVideo, FrameSlicesMatchTheReferenceBitForBit) {
  const Reference& r = reference();
  double worst = 0.0;
  int frames = 0;
  for (const ReferenceVideo& ref : r.videos) {
    for (size_t i = 0; i < ref.frame_files.size(); ++i) {
      SCOPED_TRACE(ref.case_id + "/" + ref.side + " " + ref.frame_files[i]);
      const omnirm::media::ImageSlices got = omnirm::media::slice_image(
          omnirm::media::decode_image(fixture(ref.frame_files[i])), frame_slicing());
      ASSERT_EQ(got.values.size(), 1u) << "a frame is one unsliced image";
      const at::Tensor expected =
          r.pixels(ref.case_id, ref.side, ref.first_slice + static_cast<int64_t>(i));
      ASSERT_TRUE(expected.defined());
      const at::Tensor mine =
          at::from_blob(const_cast<float*>(got.values[0].data()), got.shapes[0], at::kFloat);
      ASSERT_EQ(mine.sizes(), expected.sizes());
      worst = std::max(worst, (mine - expected).abs().max().item<double>());
      ++frames;
    }
  }
  std::printf("[minicpmo] video frame pixels max |diff| %.3g over %d frames\n", worst, frames);
  EXPECT_GE(frames, 14);
  EXPECT_EQ(worst, 0.0);
}

TEST(MinicpmoVideo, AFrameDirectoryIsAVideoOfItsFileCountAndAShortOneIsRefused) {
  const std::string dir = omnirm::testing::make_temp_dir("minicpmo-frames");
  for (int k = 0; k < 9; ++k) {
    char name[32];
    std::snprintf(name, sizeof(name), "/frame_%02d.png", k);
    omnirm::media::write_png(dir + name, omnirm::media::solid_image(8, 6, {uint8_t(k * 20), 0, 0}));
  }
  VideoOptions options = plugin_options();
  options.directory_fps = 2.0;  // 9 frames over 4.5 s: 4 frames at linspace(0, 8, 4)
  const omnirm::media::Video video = omnirm::media::decode_video(dir, options);
  std::vector<int64_t> indices;
  for (const auto& frame : video.frames) indices.push_back(frame.index);
  EXPECT_EQ(indices, (std::vector<int64_t>{0, 2, 5, 8}));
  EXPECT_EQ(video.frames[1].image.pixels[0], 40);

  const std::string short_dir = omnirm::testing::make_temp_dir("minicpmo-short");
  omnirm::media::write_png(short_dir + "/a.png", omnirm::media::solid_image(8, 6, {1, 2, 3}));
  options.directory_fps = 4.0;  // one frame, 0.25 s: no frame at 2 fps
  const std::string message =
      omnirm::testing::user_error_of([&] { omnirm::media::decode_video(short_dir, options); });
  EXPECT_NE(message.find(short_dir), std::string::npos) << message;
  EXPECT_NE(message.find("too short for one frame"), std::string::npos) << message;
}

}  // namespace
