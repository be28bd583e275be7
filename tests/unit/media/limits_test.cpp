// Hostile files refused from their declared values before any decoding or allocation:
// huge declared picture sizes, a WAV declaring days of audio, more video frames than the
// scan limit, meshes declaring billions of elements, and the per-file byte limit.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <filesystem>

#include "omnirm/media/audio.h"
#include "omnirm/media/image.h"
#include "omnirm/media/point_cloud.h"
#include "omnirm/media/video.h"
#include "support/test_support.h"
#include "unit/media/media_expect.h"
#include "unit/media/media_writers.h"

namespace omnirm::media {
namespace {

using namespace omnirm::media::testing;

void put_be32(std::vector<uint8_t>& bytes, size_t at, uint32_t value) {
  for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<uint8_t>(value >> (24 - 8 * i));
}

void put_le32(std::vector<uint8_t>& bytes, size_t at, uint32_t value) {
  for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<uint8_t>(value >> (8 * i));
}

uint32_t crc32(const uint8_t* data, size_t size) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) {
    crc ^= data[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

class MediaLimitChecks : public ::testing::Test {
 protected:
  std::string dir_ = omnirm::testing::make_temp_dir("media-limits");
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A real PNG whose IHDR (with a correct CRC) declares width x height.
  std::string png_declaring(uint32_t width, uint32_t height) {
    write_png(path("small.png"), solid_image(4, 4, {9, 9, 9}));
    std::vector<uint8_t> bytes = read_bytes(path("small.png"));
    put_be32(bytes, 16, width);  // IHDR data starts at 16: width, height
    put_be32(bytes, 20, height);
    put_be32(bytes, 29, crc32(bytes.data() + 12, 17));  // CRC over type + 13 data bytes
    const std::string name =
        path("declares_" + std::to_string(width) + "x" + std::to_string(height) + ".png");
    write_bytes(name, bytes);
    return name;
  }
};

TEST_F(MediaLimitChecks, PngDeclaring100000x100000IsRefusedBeforeDecoding) {
  const std::string png = png_declaring(100000, 100000);
  expect_media_error(user_error_of([&] { decode_image(png); }), png,
                     "declares 100000x100000 pixels, a side over the limit of 16384");
  const std::string many = png_declaring(16000, 16000);
  expect_media_error(user_error_of([&] { decode_image(many); }), many,
                     "256000000 pixels, over the limit of 67108864");
}

TEST_F(MediaLimitChecks, JpegDeclaringHugeSizeIsRefused) {
  write_jpeg(path("small.jpg"), solid_image(8, 8, {9, 9, 9}), 90);
  std::vector<uint8_t> bytes = read_bytes(path("small.jpg"));
  size_t sof = 0;
  for (size_t i = 2; i + 1 < bytes.size(); ++i) {
    if (bytes[i] == 0xFF && bytes[i + 1] == 0xC0) {
      sof = i;
      break;
    }
  }
  ASSERT_GT(sof, 0u);
  // FF C0, length (2), precision (1), height (2), width (2).
  bytes[sof + 5] = 0xFD;
  bytes[sof + 6] = 0xE8;  // 65000
  bytes[sof + 7] = 0xFD;
  bytes[sof + 8] = 0xE8;
  write_bytes(path("huge.jpg"), bytes);
  expect_media_error(user_error_of([&] { decode_image(path("huge.jpg")); }), path("huge.jpg"),
                     "declares 65000x65000 pixels");
}

TEST_F(MediaLimitChecks, TighterLimitsApplyToRealImages) {
  write_webp(path("pic.webp"), gradient_image(30, 20), true);
  expect_media_error(
      user_error_of([&] { decode_image(path("pic.webp"), {}, {.max_pixels = 100}); }),
      path("pic.webp"), "declares 30x20 = 600 pixels, over the limit of 100");
  expect_media_error(
      user_error_of([&] { decode_image(path("pic.webp"), {}, {.max_file_bytes = 10}); }),
      path("pic.webp"), "over the limit of 10");
}

TEST_F(MediaLimitChecks, WavDeclaringGiantDataSizeIsRefused) {
  write_wav(path("short.wav"), sine(440, 0.5, 0.1, 16000), 1, 16000);
  std::vector<uint8_t> bytes = read_bytes(path("short.wav"));
  put_le32(bytes, 4, 0xFFFFFFF0u);   // RIFF size
  put_le32(bytes, 40, 0xFFFFFF00u);  // data size: 4 GiB of 16 kHz mono 16-bit = 37 hours
  write_bytes(path("giant.wav"), bytes);
  const auto start = std::chrono::steady_clock::now();
  expect_media_error(user_error_of([&] { decode_audio(path("giant.wav")); }), path("giant.wav"),
                     "s of audio, over the limit of 600.00 s");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(MediaLimitChecks, AudioLongerThanTheLimitIsRefusedBeforeDecoding) {
  write_wav(path("second.wav"), sine(440, 0.5, 1.0, 16000), 1, 16000);
  expect_media_error(
      user_error_of([&] { decode_audio(path("second.wav"), {}, {.max_duration_seconds = 0.5}); }),
      path("second.wav"), "declares 1.00 s of audio, over the limit of 0.50 s");
}

TEST_F(MediaLimitChecks, VideoWithMoreFramesThanTheScanLimitIsRefused) {
  const std::vector<Image> frames(30, solid_image(64, 48, {10, 20, 30}));
  encode_video(path("many.mp4"), "libx264", frames, 10);
  encode_video(path("many.webm"), "libvpx", frames, 10);
  const MediaLimits tiny{.max_frames_scanned = 10};
  // MP4 declares its frame count; WebM only its duration (3 s at 10 fps).
  expect_media_error(user_error_of([&] { decode_video(path("many.mp4"), {}, tiny); }),
                     path("many.mp4"), "declares 30 frames, over the limit of 10 frames scanned");
  expect_media_error(user_error_of([&] { decode_video(path("many.webm"), {}, tiny); }),
                     path("many.webm"), "declares about 30 frames");
  expect_media_error(
      user_error_of([&] { decode_video(path("many.mp4"), {}, {.max_duration_seconds = 1.0}); }),
      path("many.mp4"), "declares 3.00 s of video, over the limit of 1.00 s");
  expect_media_error(user_error_of([&] { decode_video(path("many.mp4"), {}, {.max_side = 32}); }),
                     path("many.mp4"), "declares 64x48 pixels");
}

TEST_F(MediaLimitChecks, FrameDirectoryWithTooManyFilesIsRefused) {
  std::filesystem::create_directories(path("frames"));
  for (int i = 0; i < 12; ++i) {
    write_png(path("frames/f" + std::to_string(100 + i) + ".png"), solid_image(4, 4, {0, 0, 0}));
  }
  expect_media_error(
      user_error_of([&] { decode_video(path("frames"), {}, {.max_frames_scanned = 10}); }),
      path("frames"), "more than 10 frames");
}

TEST_F(MediaLimitChecks, PlyDeclaringBillionsOfVerticesIsRefusedBeforeAssimpReadsIt) {
  omnirm::testing::write_file(path("huge.ply"),
                              "ply\nformat binary_little_endian 1.0\nelement vertex 2000000000\n"
                              "property float x\nproperty float y\nproperty float z\nend_header\n" +
                                  std::string(36, '\0'));
  expect_media_error(user_error_of([&] { decode_point_cloud(path("huge.ply")); }), path("huge.ply"),
                     "declares 2000000000 vertex elements, over the limit of 10000000");
}

TEST_F(MediaLimitChecks, BinaryStlDeclaringBillionsOfTrianglesIsRefused) {
  std::vector<uint8_t> stl(84 + 50, 0);
  put_le32(stl, 80, 1000000000u);
  write_bytes(path("huge.stl"), stl);
  expect_media_error(user_error_of([&] { decode_point_cloud(path("huge.stl")); }), path("huge.stl"),
                     "declares 1000000000 triangles");
}

TEST_F(MediaLimitChecks, ObjOverTheVertexLimitIsRefused) {
  std::string obj;
  for (int i = 0; i < 8; ++i)
    obj += "v " + std::to_string(i) + " 0 " + std::to_string(i % 3) + "\n";
  omnirm::testing::write_file(path("eight.obj"), obj);
  expect_media_error(
      user_error_of([&] { decode_point_cloud(path("eight.obj"), {}, {.max_mesh_vertices = 5}); }),
      path("eight.obj"), "has 8 vertices");
}

}  // namespace
}  // namespace omnirm::media
