// Tests of the library writers and the rasteriser: shape areas and centres, round trips
// through the project's own decoders, byte-identical re-encodes, and one-line write errors.
#include "omnirm/media/media_write.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "omnirm/core/error.h"
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

constexpr Rgb kBackground{250, 250, 250};
constexpr Rgb kInk{200, 30, 40};

struct InkStats {
  int64_t count = 0;
  double centre_x = 0.0;
  double centre_y = 0.0;
  int min_x = 1 << 30, max_x = -1, min_y = 1 << 30, max_y = -1;
};

InkStats ink_stats(const Image& image, Rgb ink) {
  InkStats stats;
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      const uint8_t* p = image.pixels.data() + (static_cast<size_t>(y) * image.width + x) * 3;
      if (p[0] != ink.r || p[1] != ink.g || p[2] != ink.b) continue;
      ++stats.count;
      stats.centre_x += x + 0.5;
      stats.centre_y += y + 0.5;
      stats.min_x = std::min(stats.min_x, x);
      stats.max_x = std::max(stats.max_x, x);
      stats.min_y = std::min(stats.min_y, y);
      stats.max_y = std::max(stats.max_y, y);
    }
  }
  if (stats.count > 0) {
    stats.centre_x /= static_cast<double>(stats.count);
    stats.centre_y /= static_cast<double>(stats.count);
  }
  return stats;
}

class MediaWrite : public ::testing::Test {
 protected:
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string dir_ = omnirm::testing::make_temp_dir("media-write");
};

TEST(MediaRaster, ShapesCoverTheirAreaAroundTheirCentre) {
  const double radius = 20.0;
  const Point2 centre{50.0, 45.0};
  const double triangle_area = 3.0 * std::sqrt(3.0) / 4.0 * radius * radius;
  const struct {
    ShapeKind shape;
    double area;
  } cases[] = {{ShapeKind::circle, std::numbers::pi * radius * radius},
               {ShapeKind::square, 4.0 * radius * radius},
               {ShapeKind::triangle, triangle_area}};
  for (const auto& c : cases) {
    Image image = solid_image(100, 90, kBackground);
    fill_shape(image, c.shape, centre, radius, kInk);
    const InkStats stats = ink_stats(image, kInk);
    EXPECT_NEAR(static_cast<double>(stats.count), c.area, 0.05 * c.area);
    // An equilateral triangle's centroid is its circumcentre, like the other two shapes'.
    EXPECT_NEAR(stats.centre_x, centre.x, 0.5);
    EXPECT_NEAR(stats.centre_y, centre.y, 0.5);
    // Everything else stays background.
    EXPECT_EQ(ink_stats(image, kBackground).count + stats.count, 100 * 90);
  }
}

TEST(MediaRaster, SquareSpansTwiceItsRadiusAndClipsAtTheBorder) {
  Image image = solid_image(32, 32, kBackground);
  fill_shape(image, ShapeKind::square, Point2{10.0, 10.0}, 4.0, kInk);
  InkStats stats = ink_stats(image, kInk);
  EXPECT_EQ(stats.max_x - stats.min_x + 1, 8);
  EXPECT_EQ(stats.max_y - stats.min_y + 1, 8);

  Image corner = solid_image(16, 16, kBackground);
  fill_shape(corner, ShapeKind::circle, Point2{0.0, 0.0}, 8.0, kInk);
  stats = ink_stats(corner, kInk);
  EXPECT_EQ(stats.min_x, 0);
  EXPECT_EQ(stats.min_y, 0);
  EXPECT_NEAR(static_cast<double>(stats.count), std::numbers::pi * 64.0 / 4.0, 6.0);
}

TEST(MediaRaster, TriangleWindingDoesNotMatter) {
  Image clockwise = solid_image(40, 40, kBackground);
  Image counter = solid_image(40, 40, kBackground);
  fill_triangle(clockwise, {3, 4}, {35, 10}, {12, 33}, kInk);
  fill_triangle(counter, {3, 4}, {12, 33}, {35, 10}, kInk);
  EXPECT_EQ(clockwise.pixels, counter.pixels);
  EXPECT_GT(ink_stats(clockwise, kInk).count, 300);
}

TEST_F(MediaWrite, PngRoundTripIsExact) {
  Image image = solid_image(32, 32, kBackground);
  fill_shape(image, ShapeKind::triangle, Point2{16, 18}, 10, kInk);
  write_png(path("shape.png"), image);
  const Image decoded = decode_image(path("shape.png"));
  EXPECT_EQ(decoded.width, 32);
  EXPECT_EQ(decoded.pixels, image.pixels);
}

TEST_F(MediaWrite, VideoEncodingIsByteIdenticalAndDecodable) {
  std::vector<Image> frames;
  for (int i = 0; i < 8; ++i) {
    Image frame = solid_image(32, 32, kBackground);
    fill_shape(frame, ShapeKind::square, Point2{6.0 + 3.0 * i, 16.0}, 3.0, kInk);
    frames.push_back(frame);
  }
  encode_video(path("a.mp4"), "libx264", frames, 4);
  encode_video(path("b.mp4"), "libx264", frames, 4);
  EXPECT_EQ(read_bytes(path("a.mp4")), read_bytes(path("b.mp4")));
  frames[3].pixels[0] = 0;
  encode_video(path("c.mp4"), "libx264", frames, 4);
  EXPECT_NE(read_bytes(path("a.mp4")), read_bytes(path("c.mp4")));

  const Video video = decode_video(path("a.mp4"));
  EXPECT_EQ(video.source_frame_count, 8);
  EXPECT_NEAR(video.duration_seconds, 2.0, 1e-6);
  ASSERT_EQ(video.frames.size(), 4u);  // 2 s at the default 2 fps cap
}

TEST_F(MediaWrite, FlacEncodingIsByteIdenticalAndLossless) {
  const std::vector<float> tone = sine(500, 0.5, 0.5, 16000);
  encode_audio(path("a.flac"), "flac", tone, 1, 16000);
  encode_audio(path("b.flac"), "flac", tone, 1, 16000);
  EXPECT_EQ(read_bytes(path("a.flac")), read_bytes(path("b.flac")));
  const Audio audio = decode_audio(path("a.flac"));
  ASSERT_EQ(audio.samples.size(), tone.size());
  for (size_t i = 0; i < tone.size(); i += 97) EXPECT_NEAR(audio.samples[i], tone[i], 1e-3);
}

// A w x h x d box centred at the origin, 8 corners and 12 triangles.
Mesh box_mesh(float w, float h, float d) {
  Mesh mesh;
  for (int i = 0; i < 8; ++i) {
    mesh.vertices.push_back(
        {(i & 1 ? 0.5f : -0.5f) * w, (i & 2 ? 0.5f : -0.5f) * h, (i & 4 ? 0.5f : -0.5f) * d});
  }
  mesh.triangles = {{0, 2, 3}, {0, 3, 1}, {4, 5, 7}, {4, 7, 6}, {0, 1, 5}, {0, 5, 4},
                    {2, 6, 7}, {2, 7, 3}, {0, 4, 6}, {0, 6, 2}, {1, 3, 7}, {1, 7, 5}};
  return mesh;
}

TEST_F(MediaWrite, PlyAndObjMeshesDecodeToTheirShape) {
  const Mesh box = box_mesh(4.0f, 2.0f, 1.0f);
  write_ply(path("box.ply"), box);
  write_obj(path("box.obj"), box);
  for (const std::string name : {"box.ply", "box.obj"}) {
    PointCloudOptions options;
    options.num_points = 2048;
    const PointCloud cloud = decode_point_cloud(path(name), options);
    EXPECT_EQ(cloud.source_faces, 12) << name;
    EXPECT_TRUE(cloud.sampled_from_surface) << name;
    double extent[3] = {0, 0, 0};
    for (int i = 0; i < cloud.num_points; ++i) {
      for (int c = 0; c < 3; ++c) {
        extent[c] =
            std::max(extent[c], std::abs(cloud.xyz[static_cast<size_t>(i) * 3 + c] * cloud.scale));
      }
    }
    EXPECT_NEAR(extent[0], 2.0, 0.05) << name;
    EXPECT_NEAR(extent[1], 1.0, 0.05) << name;
    EXPECT_NEAR(extent[2], 0.5, 0.05) << name;
  }
  EXPECT_EQ(omnirm::testing::read_file(path("box.obj")).substr(0, 30),
            "v -2.000000 -1.000000 -0.50000");
}

TEST_F(MediaWrite, FailuresAreOneLineUserErrorsNamingThePath) {
  const std::string missing = path("no-such-dir/out");
  expect_media_error(user_error_of([&] { write_png(missing + ".png", solid_image(4, 4, {})); }),
                     missing + ".png", "PNG");
  expect_media_error(user_error_of([&] {
                       write_wav(missing + ".wav", {0.0f, 0.1f}, 1, 16000);
                     }),
                     missing + ".wav", "cannot open");
  expect_media_error(
      user_error_of([&] { encode_video(missing + ".mp4", "libx264", {solid_image(8, 8, {})}, 4); }),
      missing + ".mp4", "opening the file");
  expect_media_error(
      user_error_of([&] { encode_video(path("odd.mp4"), "libx264", {solid_image(7, 8, {})}, 4); }),
      path("odd.mp4"), "even");
  Mesh broken = box_mesh(1, 1, 1);
  broken.triangles.push_back({0, 1, 8});
  expect_media_error(user_error_of([&] { write_ply(path("broken.ply"), broken); }),
                     path("broken.ply"), "vertex 8");
}

}  // namespace
}  // namespace omnirm::media
