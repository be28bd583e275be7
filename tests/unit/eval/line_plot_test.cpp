// Line plots: the canvas has the documented size, curves are drawn where their values are
// (rising to the right goes up), a NaN breaks a line, the legend wraps onto more rows.
#include <gtest/gtest.h>

#include <cmath>

#include "omnirm/core/error.h"
#include "omnirm/eval/line_plot.h"

namespace {

using omnirm::eval::Canvas;
using omnirm::eval::LineSeries;
using omnirm::eval::Rgb;

const Rgb kFirst = omnirm::eval::line_plot_colour(0);
const Rgb kSecond = omnirm::eval::line_plot_colour(1);

int count(const Canvas& canvas, Rgb colour, int x_from = 0, int x_to = -1) {
  if (x_to < 0) x_to = canvas.width() - 1;
  int n = 0;
  for (int y = 0; y < canvas.height(); ++y) {
    for (int x = x_from; x <= x_to; ++x) n += canvas.pixel(x, y) == colour;
  }
  return n;
}

// The mean row of `colour`'s pixels in columns [x_from, x_to].
double mean_row(const Canvas& canvas, Rgb colour, int x_from, int x_to) {
  double sum = 0;
  int n = 0;
  for (int y = 0; y < canvas.height(); ++y) {
    for (int x = x_from; x <= x_to; ++x) {
      if (canvas.pixel(x, y) == colour) {
        sum += y;
        ++n;
      }
    }
  }
  return n == 0 ? -1 : sum / n;
}

TEST(LinePlot, SizeAndColours) {
  const Canvas canvas = omnirm::eval::draw_line_plot(
      "loss", {LineSeries{"loss", {1, 2, 3, 4}, {0.7, 0.6, 0.5, 0.45}, kFirst},
               LineSeries{"eval/loss", {2, 4}, {0.65, 0.5}, kSecond}});
  EXPECT_EQ(canvas.width(), omnirm::eval::kLinePlotWidth);
  EXPECT_EQ(canvas.height(), omnirm::eval::line_plot_height(1));
  EXPECT_EQ(omnirm::eval::line_plot_height(3), omnirm::eval::line_plot_height(1) + 28);
  EXPECT_GT(count(canvas, kFirst), 200);
  EXPECT_GT(count(canvas, kSecond), 100);
  EXPECT_NE(kFirst, kSecond);
}

TEST(LinePlot, ARisingSeriesGoesUpToTheRight) {
  const Canvas canvas = omnirm::eval::draw_line_plot(
      "accuracy", {LineSeries{"accuracy", {0, 100, 200, 300}, {0.1, 0.4, 0.6, 0.9}, kFirst}});
  // Right of the legend swatch, the curve's left end sits lower than its right end.
  const int w = canvas.width();
  const double left = mean_row(canvas, kFirst, 90, 150);
  const double right = mean_row(canvas, kFirst, w - 120, w - 30);
  ASSERT_GT(left, 0);
  ASSERT_GT(right, 0);
  EXPECT_GT(left, right + 100);
}

TEST(LinePlot, ANanBreaksTheLine) {
  const Canvas broken = omnirm::eval::draw_line_plot(
      "x", {LineSeries{"s", {0, 10, 20, 30}, {0.0, std::nan(""), INFINITY, 1.0}, kFirst}});
  const Canvas whole = omnirm::eval::draw_line_plot(
      "x", {LineSeries{"s", {0, 10, 20, 30}, {0.0, 1.0 / 3, 2.0 / 3, 1.0}, kFirst}});
  // The middle third of the x range: crossed by the whole line, empty in the broken one.
  const int from = 76 + (720 - 24 - 76) * 2 / 5, to = 76 + (720 - 24 - 76) * 3 / 5;
  EXPECT_GT(count(whole, kFirst, from, to), 20);
  EXPECT_EQ(count(broken, kFirst, from, to), 0);
}

TEST(LinePlot, ConstantAndSinglePointSeriesAreDrawn) {
  const Canvas canvas = omnirm::eval::draw_line_plot(
      "lr", {LineSeries{"lr", {5}, {1e-3}, kFirst}, LineSeries{"c", {1, 9}, {2.0, 2.0}, kSecond}});
  EXPECT_GE(count(canvas, kFirst), 25 + 100);  // the 5x5 marker and the legend swatch
  EXPECT_GT(count(canvas, kSecond), 100);
}

TEST(LinePlot, TheLegendWrapsOntoMoreRows) {
  std::vector<LineSeries> many;
  for (int i = 0; i < 12; ++i) {
    many.push_back({"eval/accuracy/task/task-number-" + std::to_string(i),
                    {1, 2},
                    {0.5, 0.6},
                    omnirm::eval::line_plot_colour(size_t(i))});
  }
  const int rows = omnirm::eval::line_plot_legend_rows(many);
  EXPECT_GE(rows, 3);
  const Canvas canvas = omnirm::eval::draw_line_plot("accuracy/task", many);
  EXPECT_EQ(canvas.height(), omnirm::eval::line_plot_height(rows));
  EXPECT_GT(canvas.height(), omnirm::eval::line_plot_height(1));
}

TEST(LinePlot, RejectsStepsAndValuesOfDifferentLengths) {
  EXPECT_THROW(omnirm::eval::draw_line_plot("x", {LineSeries{"s", {1, 2}, {0.5}, kFirst}}),
               omnirm::UserError);
}

TEST(Canvas, DrawLineIncludesBothEnds) {
  Canvas canvas(20, 20, Rgb{255, 255, 255});
  canvas.draw_line(2, 3, 15, 11, kFirst);
  EXPECT_EQ(canvas.pixel(2, 3), kFirst);
  EXPECT_EQ(canvas.pixel(15, 11), kFirst);
  EXPECT_EQ(count(canvas, kFirst), 14);  // one pixel per column along the longer axis
  canvas.draw_line(10, 18, 10, 1, kSecond, 3);
  EXPECT_EQ(count(canvas, kSecond), 3 * 20);  // 3 wide, rows 0..19
  EXPECT_EQ(canvas.pixel(9, 1), kSecond);
  EXPECT_EQ(canvas.pixel(11, 18), kSecond);
}

}  // namespace
