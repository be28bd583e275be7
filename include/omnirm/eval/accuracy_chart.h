// A grouped bar chart of accuracy per task (0–100%), one bar per series in each group, with
// a legend and value labels, written as PNG — e.g. a model's per-task accuracy beside the
// paper's BT figures.
#pragma once

#include <string>
#include <vector>

#include "omnirm/eval/png_canvas.h"

namespace omnirm::eval {

struct ChartSeries {
  std::string name;
  std::vector<double> values;  // one per category, in [0, 1]; NaN: no bar
  Rgb colour;
};

// Throws UserError if a series has the wrong number of values.
Canvas draw_accuracy_chart(const std::string& title, const std::vector<std::string>& categories,
                           const std::vector<ChartSeries>& series);

}  // namespace omnirm::eval
