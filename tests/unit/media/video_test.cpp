// Video decoding on files written at test time: H.264 in MP4 ("libx264") and VP8 in WebM
// ("libvpx") through FFmpeg's encoders, and directories of PNG frames. Every frame's colour
// encodes its index (see indexed_frames), so the decoded colours show which frames were
// sampled.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "omnirm/media/video.h"
#include "support/test_support.h"
#include "unit/media/media_writers.h"

namespace omnirm::media {
namespace {

using namespace omnirm::media::testing;

// Frame i: the left half is one colour that encodes i (red 8 i, green 255 - 8 i, blue 64);
// the right half a texture that moves from frame to frame, so that encoders predict between
// frames (and libx264 at a slower preset uses B-frames).
std::vector<Image> indexed_frames(int count, int width, int height) {
  std::vector<Image> frames;
  for (int i = 0; i < count; ++i) {
    Image frame = solid_image(width, height,
                              {static_cast<uint8_t>(8 * i), static_cast<uint8_t>(255 - 8 * i), 64});
    for (int y = 0; y < height; ++y) {
      for (int x = width / 2; x < width; ++x) {
        uint8_t* p = frame.pixels.data() + (static_cast<size_t>(y) * width + x) * 3;
        p[0] = static_cast<uint8_t>((x * 5 + y * 3 + 9 * i) % 256);
        p[1] = static_cast<uint8_t>((x * y + 4 * i) % 256);
        p[2] = static_cast<uint8_t>((y * 7 + 11 * i) % 256);
      }
    }
    frames.push_back(frame);
  }
  return frames;
}

// The frame index a decoded frame's colour encodes, read in the middle of the left half
// (-1 if red and green disagree).
int decoded_index(const Image& image) {
  const size_t at = (static_cast<size_t>(image.height / 2) * image.width + image.width / 4) * 3;
  const int from_red = static_cast<int>(std::lround(image.pixels[at] / 8.0));
  const int from_green = static_cast<int>(std::lround((255 - image.pixels[at + 1]) / 8.0));
  return from_red == from_green ? from_red : -1;
}

class MediaVideo : public ::testing::Test {
 protected:
  std::string dir_ = omnirm::testing::make_temp_dir("media-video");
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void expect_frames(const Video& video, const std::vector<int64_t>& indices, double fps) {
    ASSERT_EQ(video.frames.size(), indices.size());
    for (size_t i = 0; i < indices.size(); ++i) {
      const VideoFrame& frame = video.frames[i];
      EXPECT_EQ(frame.index, indices[i]);
      EXPECT_NEAR(frame.timestamp, static_cast<double>(indices[i]) / fps, 1e-3);
      EXPECT_EQ(decoded_index(frame.image), indices[i]) << "frame " << i;
    }
  }
};

TEST_F(MediaVideo, Mp4H264SamplesFourFramesAtTwoFpsByDefault) {
  // 30 frames at 10 fps span 3 s: n = min(4, floor(3 * 2)) = 4 targets at 0.375, 1.125,
  // 1.875, 2.625 s, which fall on frames 3, 11, 18 and 26.
  encode_video(path("count.mp4"), "libx264", indexed_frames(30, 64, 48), 10);
  const Video video = decode_video(path("count.mp4"));
  EXPECT_EQ(video.source_frame_count, 30);
  EXPECT_NEAR(video.duration_seconds, 3.0, 1e-6);
  EXPECT_EQ(video.source_width, 64);
  EXPECT_EQ(video.source_height, 48);
  expect_frames(video, {3, 11, 18, 26}, 10.0);
  for (const VideoFrame& frame : video.frames) {
    EXPECT_EQ(frame.image.width, 64);
    EXPECT_EQ(frame.image.height, 48);
    // The blue channel of the left half is 64 in every source frame.
    EXPECT_NEAR(frame.image.pixels[(24 * 64 + 16) * 3 + 2], 64, 4);
  }
}

TEST_F(MediaVideo, Mp4WithBFramesIsSampledInDisplayOrder) {
  encode_video(path("bframes.mp4"), "libx264", indexed_frames(30, 64, 48), 10, "medium");
  const Video video = decode_video(path("bframes.mp4"));
  EXPECT_EQ(video.source_frame_count, 30);
  expect_frames(video, {3, 11, 18, 26}, 10.0);
}

TEST_F(MediaVideo, WebmVp8WithAHigherFrameCapIsLimitedByTheFpsCap) {
  // max_frames 10, but 3 s at 2 fps allows 6: targets at 0.25 + 0.5 k s -> frames 2, 7, ...
  encode_video(path("count.webm"), "libvpx", indexed_frames(30, 64, 48), 10);
  const Video video = decode_video(path("count.webm"), {.max_frames = 10});
  EXPECT_EQ(video.source_frame_count, 30);
  expect_frames(video, {2, 7, 12, 17, 22, 27}, 10.0);
}

TEST_F(MediaVideo, FramesAreShrunkToTheMaxSide) {
  encode_video(path("wide.mp4"), "libx264", indexed_frames(6, 320, 240), 2);
  const Video video = decode_video(path("wide.mp4"), {.max_side = 64});
  EXPECT_EQ(video.source_width, 320);
  ASSERT_FALSE(video.frames.empty());
  for (const VideoFrame& frame : video.frames) {
    EXPECT_EQ(frame.image.width, 64);
    EXPECT_EQ(frame.image.height, 48);
    EXPECT_EQ(decoded_index(frame.image), frame.index);
  }
}

TEST_F(MediaVideo, DirectoryOfFramesIsSampledInNameOrder) {
  // 10 frames at the assumed 2 fps span 5 s: targets 0.625, 1.875, 3.125, 4.375 s -> frames
  // 1, 3, 6, 8. Written in reverse to show that the order comes from the names.
  const std::string frames_dir = path("frames");
  std::filesystem::create_directories(frames_dir);
  const std::vector<Image> frames = indexed_frames(10, 40, 20);
  for (int i = 9; i >= 0; --i) {
    char name[32];
    std::snprintf(name, sizeof(name), "/frame_%03d.png", i);
    write_png(frames_dir + name, frames[static_cast<size_t>(i)]);
  }
  omnirm::testing::write_file(frames_dir + "/notes.txt", "not a frame");
  const Video video = decode_video(frames_dir);
  EXPECT_EQ(video.source_frame_count, 10);
  EXPECT_NEAR(video.duration_seconds, 5.0, 1e-9);
  expect_frames(video, {1, 3, 6, 8}, 2.0);
  EXPECT_EQ(video.frames[0].image.pixels[0], 8);  // PNG frames are exact
}

TEST(MediaVideoSampling, RuleOnTimestampLists) {
  auto times = [](int count, double fps) {
    std::vector<double> t;
    for (int i = 0; i < count; ++i) t.push_back(i / fps);
    return t;
  };
  const VideoOptions defaults;
  // Fewer frames than the caps: one per frame.
  EXPECT_EQ(sample_frame_indices(times(3, 1.0), 3.0, {.max_fps = 2.0, .max_frames = 8}),
            (std::vector<int64_t>{0, 1, 2}));
  // A single frame.
  EXPECT_EQ(sample_frame_indices(times(1, 30.0), 1 / 30.0, defaults), (std::vector<int64_t>{0}));
  // Short clip: 0.4 s at 2 fps rounds down to 0 slots, so one frame, from the middle.
  EXPECT_EQ(sample_frame_indices(times(12, 30.0), 0.4, defaults), (std::vector<int64_t>{6}));
  // A long clip is capped at max_frames, spread over the whole span.
  EXPECT_EQ(sample_frame_indices(times(3000, 25.0), 120.0, defaults),
            (std::vector<int64_t>{375, 1125, 1875, 2625}));
  // Targets exactly on frame times pick that frame: 8 frames at 2 fps, 4 s, 4 slots at
  // 0.5, 1.5, 2.5, 3.5 s.
  EXPECT_EQ(sample_frame_indices(times(8, 2.0), 4.0, defaults), (std::vector<int64_t>{1, 3, 5, 7}));
  // Irregular timestamps: a long still frame is taken once even if two targets fall in it.
  EXPECT_EQ(sample_frame_indices({0.0, 0.1, 2.5}, 4.0, defaults), (std::vector<int64_t>{1, 2}));
  EXPECT_TRUE(sample_frame_indices({}, 0.0, defaults).empty());
}

}  // namespace
}  // namespace omnirm::media
