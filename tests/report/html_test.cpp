// The HTML report's structure: self-contained (no script, no external
// resource), every chart present with data, tables and notes included.
#include "hcx/report/html.h"

#include <sstream>

#include <gtest/gtest.h>

#include "report/fixture.h"

namespace hcx::report {
namespace {

std::string known_html() {
  const ReportInput in = fixture::known_input();
  std::ostringstream out;
  render_html(compute_report(in, ReportOptions{}), in, out);
  return out.str();
}

size_t count_of(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

// The <svg ...>...</svg> element with id `id`, or "".
std::string svg_by_id(const std::string& html, const std::string& id) {
  const size_t at = html.find("id=\"" + id + "\"");
  if (at == std::string::npos) return "";
  const size_t start = html.rfind("<svg", at);
  const size_t end = html.find("</svg>", at);
  return html.substr(start, end + 6 - start);
}

TEST(RenderHtml, GapChartFollowsTheHeadlineMetric) {
  const ReportInput in = fixture::known_input();
  ReportOptions opt;
  opt.metric = "train/loss";
  std::ostringstream out;
  render_html(compute_report(in, opt), in, out);
  const std::string gap = svg_by_id(out.str(), "chart-gap");
  EXPECT_NE(gap.find("of train/loss"), std::string::npos) << gap;
  EXPECT_EQ(gap.find("val/loss"), std::string::npos) << gap;
  EXPECT_EQ(svg_by_id(known_html(), "chart-gap").find("train/loss"), std::string::npos);
}

TEST(RenderHtml, SelfContained) {
  const std::string html = known_html();
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("url(http"), std::string::npos);
  // The only URL is the SVG namespace, which is a name, not a fetch.
  size_t urls = 0;
  for (size_t p = html.find("http"); p != std::string::npos; p = html.find("http", p + 1)) {
    EXPECT_EQ(html.compare(p, 26, "http://www.w3.org/2000/svg"), 0) << html.substr(p, 40);
    ++urls;
  }
  EXPECT_GT(urls, 0u);
}

TEST(RenderHtml, EveryChartHasData) {
  const std::string html = known_html();
  for (const char* id : {"chart-train-loss", "chart-val-loss", "chart-gap", "chart-collapse", "chart-layer-grad-norm"}) {
    const std::string svg = svg_by_id(html, id);
    ASSERT_FALSE(svg.empty()) << id;
    EXPECT_NE(svg.find("<polyline"), std::string::npos) << id;
    EXPECT_EQ(svg.find("no data"), std::string::npos) << id;
  }
  // The gap chart follows the loss curves: one Δ line with its band, and the zero line.
  const std::string gap = svg_by_id(html, "chart-gap");
  ASSERT_FALSE(gap.empty());
  EXPECT_LT(html.find("id=\"chart-val-loss\""), html.find("id=\"chart-gap\""));
  EXPECT_LT(html.find("id=\"chart-gap\""), html.find("id=\"chart-collapse\""));
  EXPECT_EQ(count_of(gap, "<polyline class=\"line\""), 1u);
  EXPECT_EQ(count_of(gap, "<path class=\"band\""), 1u);
  EXPECT_EQ(count_of(gap, "<line class=\"ref\""), 1u);
  EXPECT_NE(gap.find("band: 95% t interval"), std::string::npos);
  EXPECT_EQ(html.find("id=\"chart-metric\""), std::string::npos);  // headline is val/loss: no extra chart
  // Two lines (one per group) and two bands per curve chart.
  const std::string val = svg_by_id(html, "chart-val-loss");
  EXPECT_NE(val.find("stroke=\"#0072B2\""), std::string::npos);
  EXPECT_NE(val.find("stroke=\"#D55E00\""), std::string::npos);
  EXPECT_NE(val.find("EMA(\u03b1=0.5)"), std::string::npos);
  // The pre_norm seed-0 loss spike is marked on the training chart.
  const std::string train = svg_by_id(html, "chart-train-loss");
  EXPECT_NE(train.find("<title>seed 0, step 3: 4 (6.5\u03c3)</title>"), std::string::npos);
  EXPECT_NE(train.find("EMA(\u03b1=0.05)"), std::string::npos);
}

TEST(RenderHtml, HeatmapsForTheSampleRunOfEachHcGroup) {
  const std::string html = known_html();
  EXPECT_NE(html.find("no connection matrices recorded"), std::string::npos);  // pre_norm
  for (const char* id : {"heatmap-1-unfolded--1", "heatmap-1-hc-0", "heatmap-1-hc-3"}) {
    const std::string svg = svg_by_id(html, id);
    ASSERT_FALSE(svg.empty()) << id;
    EXPECT_NE(svg.find("<rect "), std::string::npos) << id;
  }
  EXPECT_NE(html.find("run hc-seed0, step 400"), std::string::npos);
}

TEST(RenderHtml, TablesAndNotes) {
  const std::string html = known_html();
  EXPECT_NE(html.find("<td class=\"num good\">\u22120.1000 [\u22120.1497, \u22120.0503]</td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"head\">Pre-Norm</td>"), std::string::npos);
  EXPECT_NE(html.find("<li>spikes per run: &gt; mean + 6\u03c3 of the previous 50 values (OLMo 2 spike rule).</li>"),
            std::string::npos);
}

}  // namespace
}  // namespace hcx::report
