// Hand-written SVG for the HTML report: heatmaps, and the static line charts
// (±std bands, spike markers, legend below the plot) that stand in for the
// interactive ones (dygraphs.h) when dygraphs is not installed. Also the
// chart model both renderers share: LineChart, its fitted ranges, tick
// labels and the palette. Lines and bands are reduced with
// metrics::minmax_reduce, so spikes survive.
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
  bool dashed = false;                     // drawn dashed: a run still training (partial curve)
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

// The axis ranges a chart is drawn at: x over every line and band point, y
// over those beyond `fit_from` of the x range (markers excluded, so a huge
// spike does not flatten the curves) and the reference line, padded by 4%
// (log y: widened to quarter decades). nullopt when no point is usable
// (finite, and positive on a log axis).
struct ChartRange {
  double x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;
};
std::optional<ChartRange> chart_range(const LineChart& chart);

// An <svg class="chart" id=...> element (responsive width, viewBox 720 wide;
// the plot is 380 high, the legend rows below it add to that). A chart with
// no finite point renders its frame and the text "no data".
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

// Labels for one axis's ticks, all with the fewest decimals that keep them
// distinct (0, 0.5M, 1M, 1.5M, 2M; never "2e+06" twice). An axis whose
// largest |tick| is 10^4 or more is written in k, M, B or T of the same
// scale; one below 10^-3 as a mantissa and a shared "e-k"; others plainly.
// The page's script (dygraphs.cpp) labels the interactive axes the same way.
std::vector<std::string> tick_labels(const std::vector<double>& ticks);

// Series colours, cycling: Okabe–Ito's colour-blind-safe hues without its
// light ones (orange, sky blue, yellow), plus dark amber, purple, grey and
// wine; each has at least 3:1 contrast on white (WCAG, graphical objects).
const std::string& palette(size_t i);

}  // namespace hcx::report
