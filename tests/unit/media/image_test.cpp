// Image decoding on files written at test time: PNG/JPEG (stb_image_write) and WebP
// (libwebp), pixel values, the area resize, and the max-side rule.
#include <gtest/gtest.h>

#include <filesystem>

#include <cstdlib>

#include "omnirm/media/image.h"
#include "support/test_support.h"
#include "unit/media/media_writers.h"

namespace omnirm::media {
namespace {

using namespace omnirm::media::testing;

class MediaImage : public ::testing::Test {
 protected:
  std::string dir_ = omnirm::testing::make_temp_dir("media-image");
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  void TearDown() override { std::filesystem::remove_all(dir_); }
};

void expect_all_pixels_near(const Image& image, int r, int g, int b, int tolerance) {
  for (size_t i = 0; i < image.pixels.size(); i += 3) {
    ASSERT_NEAR(image.pixels[i], r, tolerance) << "pixel " << i / 3;
    ASSERT_NEAR(image.pixels[i + 1], g, tolerance) << "pixel " << i / 3;
    ASSERT_NEAR(image.pixels[i + 2], b, tolerance) << "pixel " << i / 3;
  }
}

TEST_F(MediaImage, SolidRedPngDecodesExactly) {
  write_png(path("red.png"), solid_image(32, 24, {255, 0, 0}));
  const Image image = decode_image(path("red.png"));
  EXPECT_EQ(image.width, 32);
  EXPECT_EQ(image.height, 24);
  ASSERT_EQ(image.pixels.size(), 32u * 24u * 3u);
  expect_all_pixels_near(image, 255, 0, 0, 0);
}

TEST_F(MediaImage, GradientPngKeepsEveryPixelInPlace) {
  const Image source = gradient_image(37, 19);
  write_png(path("gradient.png"), source);
  const Image image = decode_image(path("gradient.png"));
  ASSERT_EQ(image.width, 37);
  ASSERT_EQ(image.height, 19);
  EXPECT_EQ(image.pixels, source.pixels);
}

TEST_F(MediaImage, SolidRedJpegDecodesWithinJpegTolerance) {
  write_jpeg(path("red.jpg"), solid_image(40, 16, {255, 0, 0}), 95);
  const Image image = decode_image(path("red.jpg"));
  EXPECT_EQ(image.width, 40);
  EXPECT_EQ(image.height, 16);
  expect_all_pixels_near(image, 255, 0, 0, 6);
}

TEST_F(MediaImage, LosslessWebpKeepsEveryPixel) {
  const Image source = gradient_image(30, 20);
  write_webp(path("gradient.webp"), source, /*lossless=*/true);
  const Image image = decode_image(path("gradient.webp"));
  ASSERT_EQ(image.width, 30);
  ASSERT_EQ(image.height, 20);
  EXPECT_EQ(image.pixels, source.pixels);
}

TEST_F(MediaImage, LossyWebpSolidBlueDecodesNearBlue) {
  write_webp(path("blue.webp"), solid_image(24, 24, {0, 0, 255}), /*lossless=*/false);
  const Image image = decode_image(path("blue.webp"));
  EXPECT_EQ(image.width, 24);
  expect_all_pixels_near(image, 0, 0, 255, 8);
}

TEST_F(MediaImage, FormatComesFromBytesNotExtension) {
  write_png(path("actually_png.jpg"), solid_image(8, 8, {0, 255, 0}));
  const Image image = decode_image(path("actually_png.jpg"));
  expect_all_pixels_near(image, 0, 255, 0, 0);
}

TEST_F(MediaImage, MaxSideShrinksKeepingAspectAndMeanColour) {
  const Image source = gradient_image(400, 200);
  write_png(path("big.png"), source);
  const Image image = decode_image(path("big.png"), {.max_side = 100});
  ASSERT_EQ(image.width, 100);
  ASSERT_EQ(image.height, 50);
  for (int c = 0; c < 3; ++c) {
    double source_mean = 0, image_mean = 0;
    for (size_t i = c; i < source.pixels.size(); i += 3) source_mean += source.pixels[i];
    for (size_t i = c; i < image.pixels.size(); i += 3) image_mean += image.pixels[i];
    EXPECT_NEAR(image_mean / (100 * 50), source_mean / (400 * 200), 0.6) << "channel " << c;
  }
}

TEST_F(MediaImage, MaxSideNeverEnlarges) {
  write_png(path("small.png"), solid_image(20, 10, {1, 2, 3}));
  const Image image = decode_image(path("small.png"), {.max_side = 256});
  EXPECT_EQ(image.width, 20);
  EXPECT_EQ(image.height, 10);
}

TEST(MediaImageResize, IntegerFactorAveragesBlocks) {
  Image image = solid_image(4, 2, {0, 0, 0});
  const uint8_t reds[8] = {0, 10, 100, 200, 20, 30, 50, 250};
  for (int i = 0; i < 8; ++i) image.pixels[static_cast<size_t>(i) * 3] = reds[i];
  const Image half = resize_image_area(image, 2, 1);
  ASSERT_EQ(half.pixels.size(), 6u);
  EXPECT_EQ(half.pixels[0], 15);   // (0 + 10 + 20 + 30) / 4
  EXPECT_EQ(half.pixels[3], 150);  // (100 + 200 + 50 + 250) / 4
}

TEST(MediaImageResize, FractionalFactorWeightsByCoveredArea) {
  Image image = solid_image(3, 1, {0, 0, 0});
  image.pixels[0] = 0;
  image.pixels[3] = 90;
  image.pixels[6] = 180;
  const Image out = resize_image_area(image, 2, 1);
  EXPECT_EQ(out.pixels[0], 30);   // (0 * 1 + 90 * 0.5) / 1.5
  EXPECT_EQ(out.pixels[3], 150);  // (90 * 0.5 + 180 * 1) / 1.5
}

TEST(MediaImageResize, FitToMaxSide) {
  int w = 0, h = 0;
  fit_to_max_side(1920, 1080, 256, &w, &h);
  EXPECT_EQ(w, 256);
  EXPECT_EQ(h, 144);
  fit_to_max_side(1000, 3, 100, &w, &h);
  EXPECT_EQ(w, 100);
  EXPECT_EQ(h, 1);  // rounds to 0.3, kept at least 1
  fit_to_max_side(50, 80, 0, &w, &h);
  EXPECT_EQ(w, 50);
  EXPECT_EQ(h, 80);
}

}  // namespace
}  // namespace omnirm::media
