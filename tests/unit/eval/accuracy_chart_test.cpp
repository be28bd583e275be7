// The PNG chart: bars are drawn at the heights of their values, and the PNG written is a
// valid file (signature, IHDR size, chunk CRCs, and IDAT that inflates back to the pixels).
#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>

#include "omnirm/core/error.h"
#include "omnirm/eval/accuracy_chart.h"
#include "support/test_support.h"

namespace {

using omnirm::eval::Canvas;
using omnirm::eval::ChartSeries;
using omnirm::eval::Rgb;

constexpr Rgb kRed{200, 30, 30};
constexpr Rgb kBlue{30, 30, 200};

Canvas sample_chart() {
  return omnirm::eval::draw_accuracy_chart(
      "per-task accuracy", {"t2t", "t2i"},
      {ChartSeries{"omnirm", {1.0, 0.5}, kRed}, ChartSeries{"paper", {0.25, std::nan("")}, kBlue}});
}

uint32_t read_u32(const std::string& s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) |
         (uint32_t(uint8_t(s[at + 2])) << 8) | uint32_t(uint8_t(s[at + 3]));
}

TEST(AccuracyChart, BarsHaveTheHeightOfTheirValues) {
  const Canvas canvas = sample_chart();
  // Plot area rows 64..304 (240 px for 100%); group g, series s starts at x = 67 + 58 g + 18 s.
  auto bar_height = [&](int group, int series, Rgb colour) {
    const int x = 67 + 58 * group + 18 * series + 8;
    int n = 0;
    for (int y = 64; y <= 304; ++y) n += canvas.pixel(x, y) == colour;
    return n;
  };
  EXPECT_EQ(bar_height(0, 0, kRed), 240);
  EXPECT_EQ(bar_height(1, 0, kRed), 120);
  EXPECT_EQ(bar_height(0, 1, kBlue), 60);
  EXPECT_EQ(bar_height(1, 1, kBlue), 0);  // NaN: no bar
}

TEST(AccuracyChart, RejectsASeriesOfTheWrongLength) {
  EXPECT_THROW(omnirm::eval::draw_accuracy_chart("x", {"a", "b"}, {ChartSeries{"s", {0.5}, kRed}}),
               omnirm::UserError);
}

TEST(AccuracyChart, WritesAValidPng) {
  const Canvas canvas = sample_chart();
  const std::string path = omnirm::testing::make_temp_dir("chart") + "/chart.png";
  canvas.save_png(path);
  const std::string png = omnirm::testing::read_file(path);
  ASSERT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n"));
  size_t at = 8;
  std::string idat;
  bool saw_end = false;
  while (at + 12 <= png.size()) {
    const uint32_t length = read_u32(png, at);
    const std::string type = png.substr(at + 4, 4);
    const std::string body = png.substr(at + 4, 4 + length);
    const uint32_t crc = read_u32(png, at + 8 + length);
    EXPECT_EQ(crc, crc32(0, reinterpret_cast<const Bytef*>(body.data()), body.size())) << type;
    if (type == "IHDR") {
      EXPECT_EQ(read_u32(png, at + 8), uint32_t(canvas.width()));
      EXPECT_EQ(read_u32(png, at + 12), uint32_t(canvas.height()));
    }
    if (type == "IDAT") idat += png.substr(at + 8, length);
    if (type == "IEND") saw_end = true;
    at += 12 + length;
  }
  EXPECT_TRUE(saw_end);
  uLongf raw_size = uLongf(canvas.height()) * (1 + 3 * canvas.width());
  std::string raw(raw_size, '\0');
  ASSERT_EQ(uncompress(reinterpret_cast<Bytef*>(raw.data()), &raw_size,
                       reinterpret_cast<const Bytef*>(idat.data()), idat.size()),
            Z_OK);
  ASSERT_EQ(raw_size, uLongf(canvas.height()) * (1 + 3 * canvas.width()));
  for (int y : {0, 100, canvas.height() - 1}) {
    for (int x : {0, 75, canvas.width() - 1}) {
      const size_t offset = size_t(y) * (1 + 3 * canvas.width()) + 1 + 3 * x;
      EXPECT_EQ((Rgb{uint8_t(raw[offset]), uint8_t(raw[offset + 1]), uint8_t(raw[offset + 2])}),
                canvas.pixel(x, y));
    }
  }
}

}  // namespace
