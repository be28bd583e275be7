// Implementation of eval/line_plot.h. Axis ranges are widened to "nice" tick multiples
// (1, 2 or 5 times a power of ten), about five ticks per axis.
#include "omnirm/eval/line_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "omnirm/core/error.h"

namespace omnirm::eval {

namespace {

constexpr Rgb kBackground{255, 255, 255};
constexpr Rgb kInk{40, 40, 40};
constexpr Rgb kGrid{225, 225, 225};
constexpr int kLeft = 76;  // room for y tick labels
constexpr int kRight = 24;
constexpr int kLegendTop = 34;
constexpr int kLegendRow = 14;
constexpr int kPlotHeight = 300;
constexpr int kBottom = 44;       // x tick labels and the axis name
constexpr int kMarkerLimit = 40;  // series with at most this many points get markers

struct Range {
  double low = 0.0, high = 1.0, tick = 0.2;
};

double nice_tick(double span) {
  const double raw = span / 5.0;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / magnitude;
  const double factor = norm < 1.5 ? 1.0 : norm < 3.0 ? 2.0 : norm < 7.0 ? 5.0 : 10.0;
  return factor * magnitude;
}

// The range [low, high] widened to multiples of a nice tick; a single value gets room
// around it. `whole` keeps ticks at least 1 (steps are integers).
Range nice_range(double low, double high, bool whole) {
  if (!(high > low)) {
    const double pad = low != 0.0 ? std::abs(low) * 0.1 : 1.0;
    low -= pad;
    high += pad;
  }
  Range range;
  range.tick = nice_tick(high - low);
  if (whole) range.tick = std::max(range.tick, 1.0);
  range.low = std::floor(low / range.tick) * range.tick;
  range.high = std::ceil(high / range.tick) * range.tick;
  return range;
}

std::string tick_label(double value, double tick) {
  if (std::abs(value) < tick * 1e-6) value = 0.0;
  char text[32];
  if (std::abs(value) >= 1e6 || (tick < 1e-4 && value != 0.0)) {
    std::snprintf(text, sizeof(text), "%.3g", value);
  } else {
    const int decimals = tick >= 1.0 ? 0 : static_cast<int>(std::ceil(-std::log10(tick) - 1e-9));
    std::snprintf(text, sizeof(text), "%.*f", decimals, value);
  }
  return text;
}

// The x position of each legend item, and its row, for the series names in order.
struct LegendItem {
  int x, row;
};

std::vector<LegendItem> legend_layout(const std::vector<LineSeries>& series) {
  std::vector<LegendItem> items;
  int x = kLeft, row = 0;
  for (const LineSeries& s : series) {
    const int width = 14 + Canvas::text_width(s.name) + 18;
    if (x > kLeft && x + width > kLinePlotWidth - kRight) {
      x = kLeft;
      ++row;
    }
    items.push_back({x, row});
    x += width;
  }
  return items;
}

}  // namespace

int line_plot_height(int legend_rows) {
  return kLegendTop + std::max(1, legend_rows) * kLegendRow + 10 + kPlotHeight + kBottom;
}

int line_plot_legend_rows(const std::vector<LineSeries>& series) {
  const std::vector<LegendItem> items = legend_layout(series);
  return items.empty() ? 1 : items.back().row + 1;
}

Rgb line_plot_colour(size_t index) {
  static constexpr Rgb kPalette[] = {{31, 119, 180},  {214, 39, 40},   {44, 160, 44},
                                     {255, 127, 14},  {148, 103, 189}, {140, 86, 75},
                                     {227, 119, 194}, {23, 190, 207}};
  return kPalette[index % std::size(kPalette)];
}

Canvas draw_line_plot(const std::string& title, const std::vector<LineSeries>& series) {
  double x_low = std::numeric_limits<double>::infinity(), x_high = -x_low;
  double y_low = x_low, y_high = -x_low;
  for (const LineSeries& s : series) {
    if (s.steps.size() != s.values.size()) {
      throw UserError("plot: series '" + s.name + "' has " + std::to_string(s.steps.size()) +
                      " steps for " + std::to_string(s.values.size()) + " values");
    }
    for (size_t i = 0; i < s.steps.size(); ++i) {
      if (!std::isfinite(s.values[i])) continue;
      x_low = std::min(x_low, s.steps[i]);
      x_high = std::max(x_high, s.steps[i]);
      y_low = std::min(y_low, s.values[i]);
      y_high = std::max(y_high, s.values[i]);
    }
  }
  if (x_low > x_high) x_low = x_high = y_low = y_high = 0.0;  // nothing finite to draw
  const Range xr = nice_range(x_low, x_high, /*whole=*/true);
  const Range yr = nice_range(y_low, y_high, /*whole=*/false);

  const std::vector<LegendItem> legend = legend_layout(series);
  const int rows = legend.empty() ? 1 : legend.back().row + 1;
  Canvas canvas(kLinePlotWidth, line_plot_height(rows), kBackground);
  canvas.draw_text(kLeft, 10, title, kInk, 2);
  for (size_t i = 0; i < series.size(); ++i) {
    const int y = kLegendTop + legend[i].row * kLegendRow;
    canvas.fill_rect(legend[i].x, y, 10, 10, series[i].colour);
    canvas.draw_text(legend[i].x + 14, y + 2, series[i].name, kInk);
  }

  const int top = kLegendTop + rows * kLegendRow + 10;
  const int bottom = top + kPlotHeight;
  const int right = kLinePlotWidth - kRight;
  auto to_x = [&](double step) {
    return kLeft +
           static_cast<int>(std::lround((step - xr.low) / (xr.high - xr.low) * (right - kLeft)));
  };
  auto to_y = [&](double value) {
    return bottom -
           static_cast<int>(std::lround((value - yr.low) / (yr.high - yr.low) * (bottom - top)));
  };

  // Gridlines with their labels, then the axes over them.
  for (double v = yr.low; v <= yr.high + yr.tick * 1e-6; v += yr.tick) {
    const int y = to_y(v);
    canvas.fill_rect(kLeft, y, right - kLeft + 1, 1, kGrid);
    const std::string label = tick_label(v, yr.tick);
    canvas.draw_text(kLeft - 6 - Canvas::text_width(label), y - 3, label, kInk);
  }
  for (double v = xr.low; v <= xr.high + xr.tick * 1e-6; v += xr.tick) {
    const int x = to_x(v);
    canvas.fill_rect(x, top, 1, kPlotHeight, kGrid);
    const std::string label = tick_label(v, xr.tick);
    canvas.draw_text(x - Canvas::text_width(label) / 2, bottom + 6, label, kInk);
  }
  canvas.fill_rect(kLeft, top, 1, kPlotHeight + 1, kInk);
  canvas.fill_rect(kLeft, bottom, right - kLeft + 1, 1, kInk);
  canvas.draw_text(right - Canvas::text_width("step"), bottom + 22, "step", kInk);

  for (const LineSeries& s : series) {
    const bool markers = s.steps.size() <= size_t(kMarkerLimit);
    bool connected = false;  // whether the previous point was drawn
    int px = 0, py = 0;
    for (size_t i = 0; i < s.steps.size(); ++i) {
      if (!std::isfinite(s.values[i])) {
        connected = false;
        continue;
      }
      const int x = to_x(s.steps[i]), y = to_y(s.values[i]);
      if (connected) canvas.draw_line(px, py, x, y, s.colour, 2);
      if (markers) canvas.fill_rect(x - 2, y - 2, 5, 5, s.colour);
      px = x;
      py = y;
      connected = true;
    }
  }
  return canvas;
}

}  // namespace omnirm::eval
