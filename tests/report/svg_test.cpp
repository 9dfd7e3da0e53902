// SVG charts: ticks and their labels, the palette, spikes kept through
// reduction, the legend below the plot, heatmap cells, escaping.
#include "hcx/report/svg.h"

#include <cmath>
#include <regex>
#include <set>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "common/text.h"

namespace hcx::report {
namespace {

using hcx::test::count_of;

// A series named `name`, drawn in `color`, through `points`.
Series series(const std::string& name, const std::string& color, std::vector<metrics::Point> points = {}) {
  Series s;
  s.name = name;
  s.color = color;
  s.line = std::move(points);
  return s;
}

TEST(Svg, NiceTicks) {
  EXPECT_EQ(nice_ticks(0, 10, 5), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  const std::vector<double> t = nice_ticks(1.93, 2.61, 5);  // step 0.2
  ASSERT_EQ(t.size(), 4u);
  for (size_t i = 0; i < t.size(); ++i) EXPECT_NEAR(t[i], 2.0 + 0.2 * static_cast<double>(i), 1e-12);
  EXPECT_EQ(nice_ticks(0, 6400, 6), (std::vector<double>{0, 2000, 4000, 6000}));
  EXPECT_EQ(nice_ticks(0, 6400, 10), (std::vector<double>{0, 1000, 2000, 3000, 4000, 5000, 6000}));
}

TEST(Svg, TickLabelsAreDistinct) {
  const struct {
    std::vector<double> ticks;
    std::vector<std::string> labels;
  } cases[] = {
      {{0, 5e5, 1e6, 1.5e6, 2e6}, {"0", "0.5M", "1M", "1.5M", "2M"}},  // never "2e+06" twice
      {{0, 2000, 4000, 6000}, {"0", "2000", "4000", "6000"}},
      {{10000, 20000, 30000}, {"10k", "20k", "30k"}},
      {{1.9, 2.1, 2.3}, {"1.9", "2.1", "2.3"}},
      {{1e-4, 1.5e-4, 2e-4}, {"1e-4", "1.5e-4", "2e-4"}},
      {{1e6, 1.000001e6}, {"1M", "1.000001M"}},
      {{-0.5, 0, 0.5}, {"-0.5", "0", "0.5"}},
      {{2e9, 4e9}, {"2B", "4B"}},
  };
  for (const auto& c : cases) EXPECT_EQ(tick_labels(c.ticks), c.labels) << c.labels.front();
}

TEST(Svg, AxisOverTwoMillionTokensHasDistinctLabels) {
  LineChart c;
  c.id = "chart-tokens";
  Series s = series("hc", "#123456");
  for (int i = 0; i <= 100; ++i) s.line.push_back({2e4 * i, 3.0 - 0.01 * i});
  c.series.push_back(s);
  const std::string svg = render_line_chart(c);
  // x tick labels sit at y = 350 (16 below the plot).
  const std::regex label(R"re(<text x="[0-9.]+" y="350" text-anchor="middle">([^<]*)</text>)re");
  std::vector<std::string> xs;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), label); it != std::sregex_iterator(); ++it) {
    xs.push_back((*it)[1]);
  }
  EXPECT_EQ(xs, (std::vector<std::string>{"0", "0.5M", "1M", "1.5M", "2M"})) << svg;
}

// WCAG relative luminance of "#RRGGBB".
double luminance(const std::string& hex) {
  double channel[3];
  for (int i = 0; i < 3; ++i) {
    const double v = std::stoi(hex.substr(1 + 2 * i, 2), nullptr, 16) / 255.0;
    channel[i] = v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
  }
  return 0.2126 * channel[0] + 0.7152 * channel[1] + 0.0722 * channel[2];
}

TEST(Svg, PaletteIsReadableOnWhite) {
  EXPECT_NEAR(luminance("#F0E442"), 0.744, 1e-3);  // the old yellow: 1.3:1 on white
  std::set<std::string> distinct;
  for (size_t i = 0; i < 8; ++i) {
    const std::string& c = palette(i);
    ASSERT_EQ(c.size(), 7u) << c;
    // Contrast with white (1.05) / (L + 0.05) of at least 3:1, WCAG's bar for graphical objects.
    EXPECT_GE(1.05 / (luminance(c) + 0.05), 3.0) << c;
    distinct.insert(c);
  }
  EXPECT_EQ(distinct.size(), 8u);
  EXPECT_EQ(palette(0), "#0072B2");
  EXPECT_EQ(palette(8), palette(0));  // cycles
}

TEST(Svg, ReferenceLineIsInsideTheYRange) {
  LineChart c;
  c.id = "chart-ref";
  c.series.push_back(series("hc", "#123456", {{0, -2.0}, {1, -1.0}}));       // all below the reference
  EXPECT_EQ(render_line_chart(c).find("class=\"ref\""), std::string::npos);  // none unless asked
  c.ref_y = 0.0;
  // y range [−2, 0] padded by 4%: [−2.08, 0.08]; y = 0 at 334 − 2.08/2.16 · 278 = 66.3.
  EXPECT_NE(render_line_chart(c).find("<line class=\"ref\" x1=\"70\" x2=\"704\" y1=\"66.3\" y2=\"66.3\"/>"),
            std::string::npos)
      << render_line_chart(c);
  c.series.clear();  // a reference line alone is not data
  EXPECT_NE(render_line_chart(c).find("no data"), std::string::npos);
}

TEST(Svg, LineChartKeepsASpikeAmongTenThousandPoints) {
  LineChart c;
  c.id = "chart-x";
  c.title = "Training <loss>";
  c.max_buckets = 100;
  Series s = series("hc", "#123456");
  for (int i = 0; i < 10000; ++i) s.line.push_back({static_cast<double>(i), 2.0 + 0.001 * (i % 3)});
  s.line[5000].y = 9.0;  // one-step spike: the y range reaches it only if it survived
  s.markers.push_back({5000, 9.0});
  s.marker_notes.push_back("seed 0, step 5000");
  c.series.push_back(s);
  const std::string svg = render_line_chart(c);
  EXPECT_EQ(svg.rfind("<svg class=\"chart\" id=\"chart-x\"", 0), 0u);
  EXPECT_NE(svg.find("Training &lt;loss&gt;"), std::string::npos);
  EXPECT_EQ(count_of(svg, "<polyline"), 1u);
  EXPECT_EQ(count_of(svg, "class=\"spike\""), 1u);
  EXPECT_NE(svg.find("<title>seed 0, step 5000</title>"), std::string::npos);
  EXPECT_NE(svg.find(">8</text>"), std::string::npos);  // a y tick at 8: the spike set the range
  const size_t from = svg.find("points=\"", svg.find("<polyline")) + 8;
  const std::string points = svg.substr(from, svg.find('"', from) - from);
  EXPECT_LE(count_of(points, ","), 2u * 100 + 2);  // reduced to min/max per bucket
  EXPECT_GE(count_of(points, ","), 100u);
}

TEST(Svg, LegendWrapsBelowThePlotAndSaysHowManyItLeftOut) {
  LineChart c;
  c.id = "chart-many";
  for (int i = 0; i < 100; ++i) {
    c.series.push_back(series("kind=hc, lr=" + std::to_string(i), palette(i), {{0, 1.0 * i}, {1, 2.0}}));
  }
  const std::string svg = render_line_chart(c);
  EXPECT_EQ(count_of(svg, "<polyline"), 100u);         // every series is drawn
  const size_t shown = count_of(svg, "height=\"4\"");  // legend swatches
  EXPECT_GT(shown, 10u);
  EXPECT_LT(shown, 50u);  // four rows at most
  EXPECT_NE(svg.find("+" + std::to_string(100 - shown) + " more"), std::string::npos);
  // Below the plot (which ends at y = 334), not over the data; the view box grows to hold it.
  const std::string legend = svg.substr(svg.find("<g class=\"legend\">"));
  const std::regex swatch_y(R"re(<rect x="[0-9.]+" y="([0-9.]+)" width="12" height="4")re");
  size_t rows_seen = 0;
  for (auto it = std::sregex_iterator(legend.begin(), legend.end(), swatch_y); it != std::sregex_iterator(); ++it) {
    EXPECT_GE(std::stod((*it)[1]), 382.0);
    ++rows_seen;
  }
  EXPECT_EQ(rows_seen, shown);
  EXPECT_NE(svg.find("viewBox=\"0 0 720 458\""), std::string::npos);  // 380 + 8 + 14 × (4 rows + the "more" row)
  c.series = {series("a", "#000", {{0, 1}, {1, 2}})};
  EXPECT_NE(render_line_chart(c).find("viewBox=\"0 0 720 402\""), std::string::npos);  // one row
}

TEST(Svg, RunningSeriesIsDashed) {
  LineChart c;
  c.id = "chart-dash";
  Series s = series("hc seed 3 (running, step 200)", "#D55E00", {{0, 1}, {1, 2}});
  s.dashed = true;
  c.series.push_back(s);
  EXPECT_NE(render_line_chart(c).find("<polyline class=\"line dashed\" stroke=\"#D55E00\""), std::string::npos);
}

TEST(Svg, EmptyChartSaysSo) {
  LineChart c;
  c.id = "chart-empty";
  c.series.push_back(series("a", "#000"));
  const std::string svg = render_line_chart(c);
  EXPECT_NE(svg.find(">no data</text>"), std::string::npos);
  EXPECT_EQ(count_of(svg, "<polyline"), 0u);
}

TEST(Svg, HeatmapHasOneCellPerValue) {
  Heatmap h;
  h.id = "heatmap-0-hc-1";
  h.title = "hc";
  h.rows = 3;
  h.cols = 3;
  h.values = {0, 1, 1, 1, 1, 0, -1, 0, 1};
  const std::string svg = render_heatmap(h);
  EXPECT_EQ(count_of(svg, "<rect "), 9u);
  EXPECT_NE(svg.find("fill=\"#B2182B\""), std::string::npos);  // +max: full red
  EXPECT_NE(svg.find("fill=\"#2166AC\""), std::string::npos);  // -max: full blue
  EXPECT_NE(svg.find("fill=\"#FFFFFF\""), std::string::npos);  // 0: white
  EXPECT_NE(svg.find(">-1.00</text>"), std::string::npos);
}

TEST(Svg, Escape) { EXPECT_EQ(html_escape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;"); }

}  // namespace
}  // namespace hcx::report
