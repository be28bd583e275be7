// Line charts of training curves: series of (step, value) points over shared axes, with
// gridlines and tick labels on both axes, a title and a legend, drawn on a Canvas for PNG.
// The canvas is kLinePlotWidth wide and line_plot_height(legend rows) high.
#pragma once

#include <string>
#include <vector>

#include "omnirm/eval/png_canvas.h"

namespace omnirm::eval {

struct LineSeries {
  std::string name;            // shown in the legend
  std::vector<double> steps;   // x, ascending
  std::vector<double> values;  // y, one per step; NaN or infinite values break the line
  Rgb colour;
};

constexpr int kLinePlotWidth = 720;

// The height of a plot whose legend needs `legend_rows` rows (at least 1).
int line_plot_height(int legend_rows);

// Legend rows needed for these series names (items wrap at the canvas width).
int line_plot_legend_rows(const std::vector<LineSeries>& series);

// Colour number `index` of a palette of 8 distinguishable colours, repeated past 8.
Rgb line_plot_colour(size_t index);

// Throws UserError if a series has different numbers of steps and values.
Canvas draw_line_plot(const std::string& title, const std::vector<LineSeries>& series);

}  // namespace omnirm::eval
