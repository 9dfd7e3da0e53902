// SVG charts: ticks, spikes kept through reduction, heatmap cells, escaping.
#include "hcx/report/svg.h"

#include <gtest/gtest.h>

namespace hcx::report {
namespace {

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

TEST(Svg, NiceTicks) {
  EXPECT_EQ(nice_ticks(0, 10, 5), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  const std::vector<double> t = nice_ticks(1.93, 2.61, 5);  // step 0.2
  ASSERT_EQ(t.size(), 4u);
  for (size_t i = 0; i < t.size(); ++i) EXPECT_NEAR(t[i], 2.0 + 0.2 * static_cast<double>(i), 1e-12);
  EXPECT_EQ(nice_ticks(0, 6400, 6), (std::vector<double>{0, 2000, 4000, 6000}));
  EXPECT_EQ(nice_ticks(0, 6400, 10), (std::vector<double>{0, 1000, 2000, 3000, 4000, 5000, 6000}));
}

TEST(Svg, ReferenceLineIsInsideTheYRange) {
  LineChart c;
  c.id = "chart-ref";
  Series s;
  s.name = "hc";
  s.color = "#123456";
  s.line = {{0, -2.0}, {1, -1.0}};  // all below the reference
  c.series.push_back(s);
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
  Series s;
  s.name = "hc";
  s.color = "#123456";
  for (int i = 0; i < 10000; ++i) s.line.push_back({static_cast<double>(i), 2.0 + 0.001 * (i % 3)});
  s.line[5000].y = 9.0;  // one-step spike: the y range reaches it only if it survived
  s.markers.push_back({5000, 9.0});
  s.marker_notes.push_back("seed 0, step 5000");
  c.series.push_back(s);
  const std::string svg = render_line_chart(c);
  EXPECT_EQ(svg.rfind("<svg class=\"chart\" id=\"chart-x\"", 0), 0u);
  EXPECT_NE(svg.find("Training &lt;loss&gt;"), std::string::npos);
  EXPECT_EQ(count(svg, "<polyline"), 1u);
  EXPECT_EQ(count(svg, "class=\"spike\""), 1u);
  EXPECT_NE(svg.find("<title>seed 0, step 5000</title>"), std::string::npos);
  EXPECT_NE(svg.find(">8</text>"), std::string::npos);  // a y tick at 8: the spike set the range
  const size_t from = svg.find("points=\"", svg.find("<polyline")) + 8;
  const std::string points = svg.substr(from, svg.find('"', from) - from);
  EXPECT_LE(count(points, ","), 2u * 100 + 2);  // reduced to min/max per bucket
  EXPECT_GE(count(points, ","), 100u);
}

TEST(Svg, LegendWrapsAndSaysHowManyItLeftOut) {
  LineChart c;
  c.id = "chart-many";
  for (int i = 0; i < 100; ++i) {
    c.series.push_back(Series{"kind=hc, lr=" + std::to_string(i), palette(i), {{0, 1.0 * i}, {1, 2.0}}, {}, {}, {}, {}});
  }
  const std::string svg = render_line_chart(c);
  EXPECT_EQ(count(svg, "<polyline"), 100u);  // every series is drawn
  const size_t shown = count(svg, "height=\"4\"");  // legend swatches
  EXPECT_GT(shown, 10u);
  EXPECT_LT(shown, 40u);  // three rows at most
  EXPECT_NE(svg.find("+" + std::to_string(100 - shown) + " more"), std::string::npos);
}

TEST(Svg, EmptyChartSaysSo) {
  LineChart c;
  c.id = "chart-empty";
  c.series.push_back(Series{"a", "#000", {}, {}, {}, {}, {}});
  const std::string svg = render_line_chart(c);
  EXPECT_NE(svg.find(">no data</text>"), std::string::npos);
  EXPECT_EQ(count(svg, "<polyline"), 0u);
}

TEST(Svg, HeatmapHasOneCellPerValue) {
  Heatmap h;
  h.id = "heatmap-0-hc-1";
  h.title = "hc";
  h.rows = 3;
  h.cols = 3;
  h.values = {0, 1, 1, 1, 1, 0, -1, 0, 1};
  const std::string svg = render_heatmap(h);
  EXPECT_EQ(count(svg, "<rect "), 9u);
  EXPECT_NE(svg.find("fill=\"#B2182B\""), std::string::npos);  // +max: full red
  EXPECT_NE(svg.find("fill=\"#2166AC\""), std::string::npos);  // -max: full blue
  EXPECT_NE(svg.find("fill=\"#FFFFFF\""), std::string::npos);  // 0: white
  EXPECT_NE(svg.find(">-1.00</text>"), std::string::npos);
}

TEST(Svg, Escape) { EXPECT_EQ(html_escape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;"); }

}  // namespace
}  // namespace hcx::report
