// Implementation of eval/accuracy_chart.h.
#include "omnirm/eval/accuracy_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "omnirm/core/error.h"

namespace omnirm::eval {

namespace {

constexpr Rgb kBackground{255, 255, 255};
constexpr Rgb kInk{40, 40, 40};
constexpr Rgb kGrid{220, 220, 220};
constexpr int kBarWidth = 18;
constexpr int kGroupGap = 22;
constexpr int kLeft = 56;
constexpr int kTop = 64;
constexpr int kPlotHeight = 240;
constexpr int kBottom = 40;

std::string percent(double value) {
  char text[16];
  std::snprintf(text, sizeof(text), "%.0f", value * 100.0);
  return text;
}

}  // namespace

Canvas draw_accuracy_chart(const std::string& title, const std::vector<std::string>& categories,
                           const std::vector<ChartSeries>& series) {
  for (const ChartSeries& s : series) {
    if (s.values.size() != categories.size()) {
      throw UserError("chart: series '" + s.name + "' has " + std::to_string(s.values.size()) +
                      " values for " + std::to_string(categories.size()) + " categories");
    }
  }
  const int bars = std::max<int>(1, static_cast<int>(series.size()));
  const int group_width = bars * kBarWidth + kGroupGap;
  const int width = std::max(kLeft + static_cast<int>(categories.size()) * group_width + 16,
                             Canvas::text_width(title, 2) + 2 * kLeft);
  Canvas canvas(width, kTop + kPlotHeight + kBottom, kBackground);
  canvas.draw_text(kLeft, 10, title, kInk, 2);

  // Legend.
  int legend_x = kLeft;
  for (const ChartSeries& s : series) {
    canvas.fill_rect(legend_x, 36, 10, 10, s.colour);
    canvas.draw_text(legend_x + 14, 38, s.name, kInk);
    legend_x += 14 + Canvas::text_width(s.name) + 20;
  }

  // Axis and gridlines every 20%.
  const int base = kTop + kPlotHeight;
  for (int tick = 0; tick <= 100; tick += 20) {
    const int y = base - tick * kPlotHeight / 100;
    canvas.fill_rect(kLeft, y, width - kLeft - 8, 1, tick == 0 ? kInk : kGrid);
    const std::string label = std::to_string(tick) + "%";
    canvas.draw_text(kLeft - 6 - Canvas::text_width(label), y - 3, label, kInk);
  }

  for (size_t c = 0; c < categories.size(); ++c) {
    const int group_left = kLeft + kGroupGap / 2 + static_cast<int>(c) * group_width;
    for (size_t s = 0; s < series.size(); ++s) {
      const double value = series[s].values[c];
      if (std::isnan(value)) continue;
      const int height = static_cast<int>(std::lround(std::clamp(value, 0.0, 1.0) * kPlotHeight));
      const int x = group_left + static_cast<int>(s) * kBarWidth;
      canvas.fill_rect(x, base - height, kBarWidth - 2, height, series[s].colour);
      const std::string label = percent(value);
      canvas.draw_text(x + (kBarWidth - 2 - Canvas::text_width(label)) / 2, base - height - 10,
                       label, kInk);
    }
    const std::string& name = categories[c];
    canvas.draw_text(group_left + (bars * kBarWidth - Canvas::text_width(name)) / 2, base + 8, name,
                     kInk);
  }
  return canvas;
}

}  // namespace omnirm::eval
