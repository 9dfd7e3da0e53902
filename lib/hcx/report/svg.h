// Hand-written SVG charts for the HTML report (no JavaScript, no chart
// library): line charts with ±std bands and spike markers, and heatmaps.
// Lines and bands are reduced with metrics::minmax_reduce, so spikes survive.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "hcx/metrics/reduce.h"

namespace hcx::report {

struct Series {
  std::string name;
  std::string color;                       // CSS colour
  std::vector<metrics::Point> line;        // NaN y breaks the line
  std::vector<metrics::Point> band_low;    // optional band, same x as band_high
  std::vector<metrics::Point> band_high;
  std::vector<metrics::Point> markers;     // spike markers (triangles)
  std::vector<std::string> marker_notes;   // tooltip per marker (may be empty)
};

struct LineChart {
  std::string id;        // element id, e.g. "chart-train-loss"
  std::string title;
  std::string subtitle;  // what was smoothed and how, what the band is
  std::string x_label, y_label;
  bool log_y = false;
  bool integer_x = false;      // x ticks on whole numbers (layer indices)
  double fit_from = 0.0;       // y range fits points with x beyond this share of the x range
  size_t max_buckets = 600;    // reduction per line: at most 2 * max_buckets + 2 points
  std::optional<double> ref_y;  // dashed horizontal line (e.g. Δ = 0), always inside the y range
  std::vector<Series> series;
};

// An <svg class="chart" id=...> element (responsive width, viewBox 720×380).
// A chart with no finite point renders its frame and the text "no data".
std::string render_line_chart(const LineChart& chart);

struct Heatmap {
  std::string id, title, caption;
  int64_t rows = 0, cols = 0;
  std::vector<double> values;  // row-major
  std::vector<std::string> row_labels, col_labels;  // optional
};

// An <svg class="chart heatmap"> with a diverging scale centred on 0 (blue
// negative, white 0, red positive) symmetric in max |value|; values are
// printed in the cells when they fit, and every cell has a tooltip.
std::string render_heatmap(const Heatmap& map);

// Escapes &, <, >, " and ' for HTML text and attributes.
std::string html_escape(const std::string& text);

// "Nice" axis ticks (1, 2, 5 × 10^k) covering [lo, hi], about `count` of them.
std::vector<double> nice_ticks(double lo, double hi, int count);

// Okabe–Ito colour-blind-safe palette, cycling.
const std::string& palette(size_t i);

}  // namespace hcx::report
