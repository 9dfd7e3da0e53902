// SVG line charts and heatmaps (see svg.h).
#include "hcx/report/svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace hcx::report {
namespace {

constexpr double kW = 720, kH = 380;                          // viewBox
constexpr double kLeft = 70, kRight = 16, kTop = 56, kBottom = 46;  // plot margins

// A coordinate with one decimal ("123.4"), without printf: a 1,000-run
// report writes millions of them.
std::string num(double v) {
  if (!std::isfinite(v)) return "0";
  long long tenths = std::llround(v * 10.0);
  std::string out;
  if (tenths < 0) {
    out += '-';
    tenths = -tenths;
  }
  out += std::to_string(tenths / 10);
  out += '.';
  out += static_cast<char>('0' + tenths % 10);
  return out;
}

// `v` with `decimals` decimals, trailing zeros and a bare point dropped.
std::string fixed_trimmed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string t(buf);
  if (t.find('.') != std::string::npos) {
    while (t.back() == '0') t.pop_back();
    if (t.back() == '.') t.pop_back();
  }
  return t == "-0" ? "0" : t;
}

struct Scale {
  double lo = 0, hi = 1, px_lo = 0, px_hi = 1;
  bool log = false;
  double operator()(double v) const {
    const double a = log ? std::log10(v) : v, l = log ? std::log10(lo) : lo, h = log ? std::log10(hi) : hi;
    return px_lo + (a - l) / (h - l) * (px_hi - px_lo);
  }
};

bool usable(double y, bool log) { return std::isfinite(y) && (!log || y > 0); }

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

const std::string& palette(size_t i) {
  static const std::vector<std::string> kColors = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                   "#AD7A00", "#7B3294", "#666666", "#882255"};
  return kColors[i % kColors.size()];
}

std::vector<std::string> tick_labels(const std::vector<double>& ticks) {
  double top = 0;
  for (double t : ticks) top = std::max(top, std::abs(t));
  static const char* const kSuffix[] = {"", "k", "M", "B", "T"};
  const int thousands = top >= 1e4 ? std::min(4, static_cast<int>(std::floor(std::log10(top) / 3))) : 0;
  const int exponent = top > 0 && top < 1e-3 ? static_cast<int>(std::floor(std::log10(top))) : 0;
  std::vector<std::string> labels;
  for (int decimals = 0; decimals <= 12; ++decimals) {
    labels.clear();
    for (double t : ticks) {
      if (t == 0) {
        labels.push_back("0");
      } else if (thousands > 0) {
        labels.push_back(fixed_trimmed(t / std::pow(1000.0, thousands), decimals) + kSuffix[thousands]);
      } else if (exponent < 0) {
        labels.push_back(fixed_trimmed(t / std::pow(10.0, exponent), decimals) + "e" + std::to_string(exponent));
      } else {
        labels.push_back(fixed_trimmed(t, decimals));
      }
    }
    std::vector<std::string> sorted = labels;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end()) break;
  }
  return labels;
}

std::vector<double> nice_ticks(double lo, double hi, int count) {
  std::vector<double> ticks;
  if (!(hi > lo) || count < 1) return {lo};
  const double raw = (hi - lo) / count;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  }
  return ticks;
}

std::optional<ChartRange> chart_range(const LineChart& c) {
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo;
  for (const auto& s : c.series) {
    for (const auto* pts : {&s.line, &s.band_low, &s.band_high}) {
      for (const auto& p : *pts) {
        if (!usable(p.y, c.log_y)) continue;
        x_lo = std::min(x_lo, p.x);
        x_hi = std::max(x_hi, p.x);
      }
    }
  }
  double y_lo = std::numeric_limits<double>::infinity(), y_hi = -y_lo;
  const double x_fit = x_lo + c.fit_from * (x_hi - x_lo);
  for (const auto& s : c.series) {
    for (const auto* pts : {&s.line, &s.band_low, &s.band_high}) {
      for (const auto& p : *pts) {
        if (!usable(p.y, c.log_y) || p.x < x_fit) continue;
        y_lo = std::min(y_lo, p.y);
        y_hi = std::max(y_hi, p.y);
      }
    }
  }
  if (!(x_hi >= x_lo) || !(y_hi >= y_lo)) return std::nullopt;  // a reference line alone is not data
  if (c.ref_y && usable(*c.ref_y, c.log_y)) {
    y_lo = std::min(y_lo, *c.ref_y);
    y_hi = std::max(y_hi, *c.ref_y);
  }
  if (x_hi == x_lo) x_hi = x_lo + 1;
  if (y_hi == y_lo) {
    const double pad = c.log_y ? y_lo * 0.5 : std::max(std::abs(y_lo) * 0.05, 1e-9);
    y_lo -= pad;
    y_hi += pad;
  } else if (!c.log_y) {
    const double pad = (y_hi - y_lo) * 0.04;
    y_lo -= pad;
    y_hi += pad;
  }
  if (c.log_y) {
    y_lo = std::pow(10.0, std::floor(std::log10(y_lo) * 4) / 4);
    y_hi = std::pow(10.0, std::ceil(std::log10(y_hi) * 4) / 4);
  }
  return ChartRange{x_lo, x_hi, y_lo, y_hi};
}

namespace {

// The legend: rows of swatch and name below the plot, wrapped to its width;
// at most kLegendRows rows, then "+N more". Returns the rows used.
constexpr int kLegendRows = 4;
constexpr double kLegendRow = 14;
int write_legend(const LineChart& c, double top, std::ostream& o) {
  const double left = kLeft, right = kW - kRight;
  double lx = left, ly = top;
  int rows = c.series.empty() ? 0 : 1;
  o << "<g class=\"legend\">\n";
  for (size_t i = 0; i < c.series.size(); ++i) {
    const auto& s = c.series[i];
    const double w = 28 + 6.5 * static_cast<double>(s.name.size());
    if (lx + w > right && lx > left) {
      lx = left;
      ly += kLegendRow;
      if (++rows > kLegendRows) {
        rows = kLegendRows + 1;
        o << "<text x=\"" << num(lx) << "\" y=\"" << ly + 6 << "\">+" << c.series.size() - i
          << " more (colours repeat; narrow the selection with --where)</text>\n";
        break;
      }
    }
    o << "<rect x=\"" << num(lx) << "\" y=\"" << ly << "\" width=\"12\" height=\"4\" fill=\"" << s.color << "\"/>";
    if (s.dashed) {  // a gap in the swatch, as in the line
      o << "<rect x=\"" << num(lx + 5) << "\" y=\"" << ly - 0.5 << "\" width=\"2\" height=\"5\" fill=\"#fff\"/>";
    }
    o << "<text x=\"" << num(lx + 16) << "\" y=\"" << ly + 6 << "\">" << html_escape(s.name) << "</text>\n";
    lx += w;
  }
  o << "</g>\n";
  return rows;
}

// The plot area in the viewBox, inside the margins.
constexpr double kPlotLeft = kLeft, kPlotRight = kW - kRight, kPlotTop = kTop, kPlotBottom = kH - kBottom;

// Data coordinates to pixels, once the chart's range is known.
struct PlotScales {
  Scale x, y;
};

// The opening <svg> tag (`height` tall, legend included), the title, the
// subtitle and the frame of the plot area.
void write_chart_header(const LineChart& c, double height, std::ostream& o) {
  o << "<svg class=\"chart\" id=\"" << html_escape(c.id) << "\" viewBox=\"0 0 " << kW << " " << height
    << "\" role=\"img\" aria-label=\"" << html_escape(c.title) << "\" xmlns=\"http://www.w3.org/2000/svg\">\n";
  o << "<title>" << html_escape(c.title) << "</title>\n";
  o << "<text class=\"title\" x=\"" << kLeft << "\" y=\"18\">" << html_escape(c.title) << "</text>\n";
  o << "<text class=\"subtitle\" x=\"" << kLeft << "\" y=\"34\">" << html_escape(c.subtitle) << "</text>\n";
  o << "<rect class=\"frame\" x=\"" << kPlotLeft << "\" y=\"" << kPlotTop << "\" width=\"" << kPlotRight - kPlotLeft
    << "\" height=\"" << kPlotBottom - kPlotTop << "\"/>\n";
}

// About six nice x ticks, whole numbers only with integer_x.
std::vector<double> x_ticks(const LineChart& c, const ChartRange& range) {
  std::vector<double> ticks = nice_ticks(range.x_lo, range.x_hi, 6);
  if (c.integer_x) {
    ticks.erase(std::remove_if(ticks.begin(), ticks.end(), [](double t) { return t != std::floor(t); }), ticks.end());
  }
  return ticks;
}

// About five nice y ticks; on a log axis the powers of ten inside the range,
// or its two ends when fewer than two powers fall inside.
std::vector<double> y_ticks(const LineChart& c, const ChartRange& range) {
  if (!c.log_y) return nice_ticks(range.y_lo, range.y_hi, 5);
  std::vector<double> ticks;
  for (double e = std::ceil(std::log10(range.y_lo)); e <= std::floor(std::log10(range.y_hi)); ++e) {
    ticks.push_back(std::pow(10.0, e));
  }
  if (ticks.size() < 2) ticks = {range.y_lo, range.y_hi};
  return ticks;
}

// The grid lines with their tick labels, and the axis labels.
void write_axes(const LineChart& c, const ChartRange& range, const PlotScales& scales, std::ostream& o) {
  const std::vector<double> x_at = x_ticks(c, range), y_at = y_ticks(c, range);
  const std::vector<std::string> x_labels = tick_labels(x_at), y_labels = tick_labels(y_at);
  o << "<g class=\"axis\">\n";
  for (size_t i = 0; i < x_at.size(); ++i) {
    const double x = scales.x(x_at[i]);
    o << "<line x1=\"" << num(x) << "\" x2=\"" << num(x) << "\" y1=\"" << kPlotTop << "\" y2=\"" << kPlotBottom
      << "\"/><text x=\"" << num(x) << "\" y=\"" << kPlotBottom + 16 << "\" text-anchor=\"middle\">" << x_labels[i]
      << "</text>\n";
  }
  for (size_t i = 0; i < y_at.size(); ++i) {
    const double y = scales.y(y_at[i]);
    o << "<line x1=\"" << kPlotLeft << "\" x2=\"" << kPlotRight << "\" y1=\"" << num(y) << "\" y2=\"" << num(y)
      << "\"/><text x=\"" << kPlotLeft - 6 << "\" y=\"" << num(y + 4) << "\" text-anchor=\"end\">" << y_labels[i]
      << "</text>\n";
  }
  o << "<text x=\"" << (kPlotLeft + kPlotRight) / 2 << "\" y=\"" << kH - 12 << "\" text-anchor=\"middle\">"
    << html_escape(c.x_label) << "</text>\n";
  o << "<text transform=\"translate(14," << (kPlotTop + kPlotBottom) / 2 << ") rotate(-90)\" text-anchor=\"middle\">"
    << html_escape(c.y_label) << "</text>\n</g>\n";
}

// The dashed horizontal reference line, when the chart has a usable one.
void write_reference_line(const LineChart& c, const PlotScales& scales, std::ostream& o) {
  if (!c.ref_y || !usable(*c.ref_y, c.log_y)) return;
  o << "<line class=\"ref\" x1=\"" << kPlotLeft << "\" x2=\"" << kPlotRight << "\" y1=\"" << num(scales.y(*c.ref_y))
    << "\" y2=\"" << num(scales.y(*c.ref_y)) << "\"/>\n";
}

// Each series' band as one closed path: along band_high, back along band_low.
void write_bands(const LineChart& c, const PlotScales& scales, std::ostream& o) {
  for (const auto& s : c.series) {
    const auto low = metrics::minmax_reduce(s.band_low, c.max_buckets);
    const auto high = metrics::minmax_reduce(s.band_high, c.max_buckets);
    std::string d;
    for (const auto& p : high) {
      if (usable(p.y, c.log_y)) d += (d.empty() ? "M" : "L") + num(scales.x(p.x)) + "," + num(scales.y(p.y));
    }
    for (auto it = low.rbegin(); it != low.rend(); ++it) {
      if (usable(it->y, c.log_y)) d += "L" + num(scales.x(it->x)) + "," + num(scales.y(it->y));
    }
    if (!d.empty()) o << "<path class=\"band\" fill=\"" << s.color << "\" d=\"" << d << "Z\"/>\n";
  }
}

// A series' line as polylines, broken where a point is not usable.
void write_line(const LineChart& c, const Series& s, const PlotScales& scales, std::ostream& o) {
  std::string points;
  auto flush = [&] {
    if (!points.empty()) {
      o << "<polyline class=\"line" << (s.dashed ? " dashed" : "") << "\" stroke=\"" << s.color << "\" points=\""
        << points << "\"/>\n";
    }
    points.clear();
  };
  for (const auto& p : metrics::minmax_reduce(s.line, c.max_buckets)) {
    if (!usable(p.y, c.log_y)) {
      flush();
      continue;
    }
    points += (points.empty() ? "" : " ") + num(scales.x(p.x)) + "," + num(scales.y(p.y));
  }
  flush();
}

// The reference line, the bands and the lines, clipped to the plot area.
void write_data(const LineChart& c, const PlotScales& scales, std::ostream& o) {
  const std::string clip = c.id + "-clip";
  o << "<clipPath id=\"" << html_escape(clip) << "\"><rect x=\"" << kPlotLeft << "\" y=\"" << kPlotTop << "\" width=\""
    << kPlotRight - kPlotLeft << "\" height=\"" << kPlotBottom - kPlotTop << "\"/></clipPath>\n";
  o << "<g clip-path=\"url(#" << html_escape(clip) << ")\">\n";
  write_reference_line(c, scales, o);
  write_bands(c, scales, o);
  for (const auto& s : c.series) write_line(c, s, scales, o);
  o << "</g>\n";
}

// The spike markers inside the x range, unclipped: one off the top of the
// scale sits at the top of the plot. Each has its note as a tooltip.
void write_markers(const LineChart& c, const ChartRange& range, const PlotScales& scales, std::ostream& o) {
  for (const auto& s : c.series) {
    for (size_t i = 0; i < s.markers.size(); ++i) {
      const auto& p = s.markers[i];
      if (!usable(p.y, c.log_y) || p.x < range.x_lo || p.x > range.x_hi) continue;
      const double x = scales.x(p.x), y = std::clamp(scales.y(p.y), kPlotTop + 8, kPlotBottom);
      o << "<path class=\"spike\" fill=\"" << s.color << "\" d=\"M" << num(x) << "," << num(y - 8) << "l-4.5,8h9z\">";
      if (i < s.marker_notes.size()) o << "<title>" << html_escape(s.marker_notes[i]) << "</title>";
      o << "</path>\n";
    }
  }
}

}  // namespace

std::string render_line_chart(const LineChart& c) {
  std::ostringstream legend;
  const int legend_rows = write_legend(c, kH + 2, legend);
  std::ostringstream o;
  write_chart_header(c, kH + 8 + kLegendRow * legend_rows, o);
  const std::optional<ChartRange> range = chart_range(c);
  if (!range) {
    o << "<text class=\"empty\" x=\"" << (kPlotLeft + kPlotRight) / 2 << "\" y=\"" << (kPlotTop + kPlotBottom) / 2
      << "\" text-anchor=\"middle\">no data</text>\n"
      << legend.str() << "</svg>\n";
    return o.str();
  }
  const PlotScales scales{Scale{range->x_lo, range->x_hi, kPlotLeft, kPlotRight, false},
                          Scale{range->y_lo, range->y_hi, kPlotBottom, kPlotTop, c.log_y}};
  write_axes(c, *range, scales, o);
  write_data(c, scales, o);
  write_markers(c, *range, scales, o);
  o << legend.str() << "</svg>\n";
  return o.str();
}

std::string render_heatmap(const Heatmap& m) {
  const double cell = m.cols > 12 || m.rows > 12 ? 22 : 40;
  const double left = 56, top = 44;
  // Wide enough for the title (14px) and the caption (11px) as well as the cells.
  const double text_w = std::max(7.5 * static_cast<double>(m.title.size()), 6.0 * static_cast<double>(m.caption.size()));
  const double w = std::max(left + cell * static_cast<double>(m.cols) + 12, text_w + 8);
  const double h = top + cell * static_cast<double>(m.rows) + 30;
  double vmax = 0;
  for (double v : m.values) {
    if (std::isfinite(v)) vmax = std::max(vmax, std::abs(v));
  }
  if (vmax == 0) vmax = 1;
  const bool print = cell >= 40;
  std::ostringstream o;
  o << "<svg class=\"chart heatmap\" id=\"" << html_escape(m.id) << "\" viewBox=\"0 0 " << num(w) << " " << num(h)
    << "\" width=\"" << num(w) << "\" role=\"img\" aria-label=\"" << html_escape(m.title)
    << "\" xmlns=\"http://www.w3.org/2000/svg\">\n<title>" << html_escape(m.title) << "</title>\n";
  o << "<text class=\"title\" x=\"4\" y=\"16\">" << html_escape(m.title) << "</text>\n";
  o << "<text class=\"subtitle\" x=\"4\" y=\"32\">" << html_escape(m.caption) << "</text>\n";
  for (int64_t r = 0; r < m.rows; ++r) {
    const double y = top + cell * static_cast<double>(r);
    const std::string rl = r < static_cast<int64_t>(m.row_labels.size()) ? m.row_labels[r] : std::to_string(r);
    o << "<text x=\"" << left - 4 << "\" y=\"" << num(y + cell / 2 + 4) << "\" text-anchor=\"end\">"
      << html_escape(rl) << "</text>\n";
    for (int64_t c = 0; c < m.cols; ++c) {
      const double v = m.values[static_cast<size_t>(r * m.cols + c)];
      const double t = std::isfinite(v) ? std::clamp(v / vmax, -1.0, 1.0) : 0.0;
      // White at 0, towards #B2182B (positive) or #2166AC (negative).
      const int R = t >= 0 ? static_cast<int>(255 - t * (255 - 178)) : static_cast<int>(255 + t * (255 - 33));
      const int G = t >= 0 ? static_cast<int>(255 - t * (255 - 24)) : static_cast<int>(255 + t * (255 - 102));
      const int B = t >= 0 ? static_cast<int>(255 - t * (255 - 43)) : static_cast<int>(255 + t * (255 - 172));
      char fill[16];
      std::snprintf(fill, sizeof fill, "#%02X%02X%02X", R, G, B);
      const double x = left + cell * static_cast<double>(c);
      char val[32];
      std::snprintf(val, sizeof val, "%.2f", v);
      o << "<rect x=\"" << num(x) << "\" y=\"" << num(y) << "\" width=\"" << cell - 1 << "\" height=\"" << cell - 1
        << "\" fill=\"" << (std::isfinite(v) ? fill : "#CCCCCC") << "\"><title>[" << r << "," << c << "] " << val
        << "</title></rect>\n";
      if (print) {
        o << "<text class=\"cell\" x=\"" << num(x + cell / 2) << "\" y=\"" << num(y + cell / 2 + 4)
          << "\" text-anchor=\"middle\"" << (std::abs(t) > 0.6 ? " fill=\"#fff\"" : "") << ">" << val << "</text>\n";
      }
    }
  }
  for (int64_t c = 0; c < m.cols; ++c) {
    const std::string cl = c < static_cast<int64_t>(m.col_labels.size()) ? m.col_labels[c] : std::to_string(c);
    o << "<text x=\"" << num(left + cell * static_cast<double>(c) + cell / 2) << "\" y=\""
      << num(top + cell * static_cast<double>(m.rows) + 16) << "\" text-anchor=\"middle\">" << html_escape(cl)
      << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

}  // namespace hcx::report
