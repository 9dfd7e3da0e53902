// The HTML report's structure: one offline file with dygraphs inlined, every
// curve's data embedded as JSON (values worked out in fixture.h), running
// runs dashed and kept out of the tables, and without dygraphs the static SVG
// curves and a note saying how to install it.
#include "hcx/report/html.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/text.h"
#include "hcx/report/dygraphs.h"
#include "report/fixture.h"

namespace hcx::report {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// Sets HCX_DYGRAPHS_DIR for one scope (ctest runs each test in its own process).
class DygraphsDir {
 public:
  explicit DygraphsDir(const std::string& dir) { ::setenv("HCX_DYGRAPHS_DIR", dir.c_str(), 1); }
  ~DygraphsDir() { ::unsetenv("HCX_DYGRAPHS_DIR"); }
};

std::string html_of(const ReportInput& in, const ReportOptions& opt = {}) {
  std::ostringstream out;
  render_html(compute_report(in, opt), in, out);
  return out.str();
}

using hcx::test::count_of;

// The element <tag ...>...</tag> with id `id`, or "".
std::string element_by_id(const std::string& html, const std::string& tag, const std::string& id) {
  const size_t at = html.find("id=\"" + id + "\"");
  if (at == std::string::npos) return "";
  const size_t start = html.rfind("<" + tag, at);
  const size_t end = html.find("</" + tag + ">", at);
  if (start == std::string::npos || end == std::string::npos) return "";
  return html.substr(start, end + tag.size() + 3 - start);
}

// id -> the chart data embedded in the page.
std::map<std::string, Json> charts_of(const std::string& html) {
  std::map<std::string, Json> out;
  const std::string open = "<script type=\"application/json\" class=\"hcx-chart\">";
  for (size_t p = html.find(open); p != std::string::npos; p = html.find(open, p + 1)) {
    const size_t from = p + open.size();
    const Json j = Json::parse(html.substr(from, html.find("</script>", from) - from));
    out[j.at("id").get<std::string>()] = j;
  }
  return out;
}

void expect_cell(const Json& cell, double low, double mid, double high, const std::string& what) {
  ASSERT_TRUE(cell.is_array()) << what << ": " << cell;
  ASSERT_EQ(cell.size(), 3u) << what;
  EXPECT_NEAR(cell[0].get<double>(), low, 1e-9) << what;
  EXPECT_NEAR(cell[1].get<double>(), mid, 1e-9) << what;
  EXPECT_NEAR(cell[2].get<double>(), high, 1e-9) << what;
}

bool have_dygraphs() { return fs::exists(std::string(kDygraphsDir) + "/dygraph.min.js"); }
#define REQUIRE_DYGRAPHS()                                                                                   \
  ASSERT_TRUE(have_dygraphs()) << kDygraphsDir << "/dygraph.min.js is missing: the HTML report inlines it. " \
                               << "Run `make setup` or `apt-get install libjs-dygraphs`."

TEST(RenderHtml, InlinesDygraphsAndFetchesNothing) {
  REQUIRE_DYGRAPHS();
  const std::string html = html_of(fixture::known_input());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  // The whole library, once, in the head, and the page script at the end.
  const std::string js = hcx::test::read_file(std::string(kDygraphsDir) + "/dygraph.min.js");
  const std::string head = html.substr(0, html.find("</head>"));
  EXPECT_NE(head.find(js.substr(0, js.find("//# sourceMappingURL"))), std::string::npos);
  EXPECT_NE(head.find(".dygraph-legend"), std::string::npos);  // dygraph.css
  EXPECT_EQ(count_of(html, "<script>"), 2u);
  EXPECT_NE(html.rfind("<script>"), std::string::npos);
  EXPECT_GT(html.rfind("<script>"), html.find("id=\"heatmap-1-hc-3\""));
  // No fetch: no src/href attribute, stylesheet link, CSS import or url(), no source map.
  const std::regex fetch(R"((src|href)\s*=\s*["']?\s*(https?:|//)|<link|@import|url\(\s*["']?(https?:|//))",
                         std::regex::icase);
  std::smatch m;
  EXPECT_FALSE(std::regex_search(html, m, fetch)) << m.str();
  EXPECT_EQ(html.find("sourceMappingURL"), std::string::npos);
  EXPECT_EQ(html.find("id=\"no-dygraphs\""), std::string::npos);
}

TEST(RenderHtml, EveryCurveHasItsData) {
  REQUIRE_DYGRAPHS();
  const std::string html = html_of(fixture::known_input());
  const auto charts = charts_of(html);
  std::vector<std::string> ids;
  for (const auto& [id, j] : charts) ids.push_back(id);
  EXPECT_EQ(ids, (std::vector<std::string>{"chart-collapse", "chart-gap", "chart-layer-grad-norm", "chart-train-loss",
                                           "chart-val-loss"}));
  EXPECT_EQ(html.find("<svg class=\"chart\""), std::string::npos);  // curves are not static pictures
  for (const auto& [id, j] : charts) {
    const std::string fig = element_by_id(html, "figure", id);
    EXPECT_EQ(fig.rfind("<figure class=\"chart dygraph\"", 0), 0u) << id;
    EXPECT_NE(fig.find("<div class=\"plot\"></div>"), std::string::npos) << id;
    EXPECT_GT(j.at("data").size(), 0u) << id;
    for (const auto& row : j.at("data")) EXPECT_EQ(row.size(), j.at("labels").size()) << id;
  }
  EXPECT_LT(html.find("id=\"chart-val-loss\""), html.find("id=\"chart-gap\""));
  EXPECT_LT(html.find("id=\"chart-gap\""), html.find("id=\"chart-collapse\""));

  // Validation loss: seed mean of EMA(0.5) curves ± the seeds' std (fixture.h).
  const Json& val = charts.at("chart-val-loss");
  EXPECT_EQ(val["labels"], Json::array({"tokens", "Pre-Norm", "DHC×2"}));
  EXPECT_EQ(val["colors"], Json::array({"#0072B2", "#D55E00"}));
  EXPECT_EQ(val["dashed"], Json::array({false, false}));
  ASSERT_EQ(val["data"].size(), 4u);
  const double pre[] = {4, 3.5, 3, 2.5}, hc[] = {3.9, 2.9, 2.4, 2.15};
  for (size_t r = 0; r < 4; ++r) {
    EXPECT_EQ(val["data"][r][0], 1600 * (r + 1));
    expect_cell(val["data"][r][1], pre[r] - 0.1, pre[r], pre[r] + 0.1, "Pre-Norm row " + std::to_string(r));
    expect_cell(val["data"][r][2], hc[r] - 0.08, hc[r], hc[r] + 0.08, "DHC×2 row " + std::to_string(r));
  }
  // y fits x >= 2080: bands 2.07 .. 3.6, padded by 4% of 1.53.
  EXPECT_NEAR(val["value_range"][0].get<double>(), 2.0088, 1e-9);
  EXPECT_NEAR(val["value_range"][1].get<double>(), 3.6612, 1e-9);
  EXPECT_EQ(val["log_x_control"], true);
  EXPECT_EQ(val["annotations"], Json::array());
  const std::string fig = element_by_id(html, "figure", "chart-val-loss");
  EXPECT_NE(fig.find("EMA(\u03b1=0.5)"), std::string::npos);

  // Training loss: EMA(0.05), no spread between seeds; the pre_norm seed-0 spike at step 3.
  const Json& train = charts.at("chart-train-loss");
  ASSERT_EQ(train["data"].size(), 3u);
  expect_cell(train["data"][2][1], 3.0025, 3.0025, 3.0025, "Pre-Norm step 3");
  expect_cell(train["data"][2][2], 2.905, 2.905, 2.905, "DHC×2 step 3");
  const Json spike = {{"series", "Pre-Norm"}, {"x", 48}, {"shortText", "\u25b2"},
                      {"text", "seed 0, step 3: 4 (6.5\u03c3)"}, {"cssClass", "hcx-spike"}};
  EXPECT_EQ(train["annotations"], Json::array({spike}));

  // Gap: Δ with its t interval and the zero line; layers on whole-number x, grad norm on log y.
  const Json& gap = charts.at("chart-gap");
  EXPECT_EQ(gap["labels"], Json::array({"tokens", "DHC×2"}));
  EXPECT_EQ(gap["ref_y"], 0.0);
  EXPECT_NE(element_by_id(html, "figure", "chart-gap").find("band: 95% t interval"), std::string::npos);
  const Json& grad = charts.at("chart-layer-grad-norm");
  EXPECT_EQ(grad["log_y"], true);
  EXPECT_EQ(grad["integer_x"], true);
  EXPECT_EQ(grad["log_x_control"], false);
  ASSERT_EQ(grad["data"].size(), 4u);
  // Layer 3: grad_norm 0.1 · 4 · (seed + 1) = 0.4, 0.8, 1.2: mean 0.8, min–max band.
  expect_cell(grad["data"][3][1], 0.4, 0.8, 1.2, "Pre-Norm layer 3");
  EXPECT_EQ(html.find("id=\"chart-metric\""), std::string::npos);  // headline is val/loss: no extra chart
}

TEST(RenderHtml, GapChartFollowsTheHeadlineMetric) {
  REQUIRE_DYGRAPHS();
  ReportOptions opt;
  opt.metric = "train/loss";
  const std::string gap = element_by_id(html_of(fixture::known_input(), opt), "figure", "chart-gap");
  EXPECT_NE(gap.find("of train/loss"), std::string::npos) << gap;
  EXPECT_EQ(gap.find("val/loss"), std::string::npos) << gap;
  EXPECT_EQ(element_by_id(html_of(fixture::known_input()), "figure", "chart-gap").find("train/loss"),
            std::string::npos);
}

TEST(RenderHtml, RunningRunsAreDashedCurvesOutsideTheTables) {
  REQUIRE_DYGRAPHS();
  const std::string html = html_of(fixture::known_input_with_running());
  const auto charts = charts_of(html);
  const Json& val = charts.at("chart-val-loss");
  EXPECT_EQ(val["labels"], Json::array({"tokens", "Pre-Norm", "DHC×2", "DHC×2 seed 3 (running, step 200)"}));
  EXPECT_EQ(val["colors"], Json::array({"#0072B2", "#D55E00", "#D55E00"}));
  EXPECT_EQ(val["dashed"], Json::array({false, false, true}));
  ASSERT_EQ(val["data"].size(), 4u);
  expect_cell(val["data"][0][3], 4.2, 4.2, 4.2, "running step 100");
  expect_cell(val["data"][1][3], 3.25, 3.25, 3.25, "running step 200");  // EMA(0.5) of {4.2, 2.3}
  EXPECT_TRUE(val["data"][2][3].is_null());
  const Json& train = charts.at("chart-train-loss");
  expect_cell(train["data"][1][3], 3.45, 3.45, 3.45, "running train step 2");
  EXPECT_NE(element_by_id(html, "figure", "chart-train-loss").find("dashed: runs still training"), std::string::npos);
  // The tables are those of the completed runs; seed 3 is listed as running.
  EXPECT_NE(html.find("<td class=\"num\">1.9000 \u00b1 0.0800</td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"num good\">\u22120.1000 [\u22120.1497, \u22120.0503]</td>"), std::string::npos);
  EXPECT_NE(html.find("<tr><td>DHC×2</td><td class=\"num bad\">3/4</td>"), std::string::npos);
  EXPECT_NE(html.find("hc-seed3"), std::string::npos);
}

TEST(RenderHtml, WithoutDygraphsCurvesAreStaticAndThePageSaysWhy) {
  const hcx::test::TempDir no_dygraphs("no_dygraphs");
  const fs::path& empty = no_dygraphs.path();
  DygraphsDir env(empty.string());
  const std::string html = html_of(fixture::known_input_with_running());
  const std::string note = element_by_id(html, "p", "no-dygraphs");
  EXPECT_NE(note.find("<code>apt-get install libjs-dygraphs</code>"), std::string::npos) << note;
  EXPECT_NE(note.find(empty.string() + "/dygraph.min.js"), std::string::npos) << note;
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("hcx-chart"), std::string::npos);
  for (const char* id : {"chart-train-loss", "chart-val-loss", "chart-gap", "chart-collapse", "chart-layer-grad-norm"}) {
    const std::string svg = element_by_id(html, "svg", id);
    ASSERT_FALSE(svg.empty()) << id;
    EXPECT_NE(svg.find("<polyline"), std::string::npos) << id;
    EXPECT_EQ(svg.find("no data"), std::string::npos) << id;
  }
  const std::string gap = element_by_id(html, "svg", "chart-gap");
  EXPECT_EQ(count_of(gap, "<polyline class=\"line\""), 1u);
  EXPECT_EQ(count_of(gap, "<path class=\"band\""), 1u);
  EXPECT_EQ(count_of(gap, "<line class=\"ref\""), 1u);
  const std::string val = element_by_id(html, "svg", "chart-val-loss");
  EXPECT_NE(val.find("<polyline class=\"line\" stroke=\"#0072B2\""), std::string::npos);
  EXPECT_NE(val.find("<polyline class=\"line\" stroke=\"#D55E00\""), std::string::npos);
  EXPECT_NE(val.find("<polyline class=\"line dashed\" stroke=\"#D55E00\""), std::string::npos);  // running
  EXPECT_NE(val.find(">DHC×2 seed 3 (running, step 200)</text>"), std::string::npos);
  const std::string train = element_by_id(html, "svg", "chart-train-loss");
  EXPECT_NE(train.find("<title>seed 0, step 3: 4 (6.5\u03c3)</title>"), std::string::npos);
  EXPECT_NE(train.find("EMA(\u03b1=0.05)"), std::string::npos);
  // The only URL left is the SVG namespace, which is a name, not a fetch.
  for (size_t p = html.find("http"); p != std::string::npos; p = html.find("http", p + 1)) {
    EXPECT_EQ(html.compare(p, 26, "http://www.w3.org/2000/svg"), 0) << html.substr(p, 40);
  }
}

TEST(RenderHtml, HeatmapsForTheSampleRunOfEachHcGroup) {
  const std::string html = html_of(fixture::known_input());
  EXPECT_NE(html.find("no connection matrices recorded"), std::string::npos);  // pre_norm
  for (const char* id : {"heatmap-1-unfolded--1", "heatmap-1-hc-0", "heatmap-1-hc-3"}) {
    const std::string svg = element_by_id(html, "svg", id);
    ASSERT_FALSE(svg.empty()) << id;
    EXPECT_NE(svg.find("<rect "), std::string::npos) << id;
  }
  EXPECT_NE(html.find("run hc-seed0, step 400"), std::string::npos);
}

TEST(RenderHtml, TablesScrollAndNotes) {
  const std::string html = html_of(fixture::known_input());
  EXPECT_NE(html.find("<td class=\"num good\">\u22120.1000 [\u22120.1497, \u22120.0503]</td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"head\">Pre-Norm</td>"), std::string::npos);
  EXPECT_NE(html.find("<li>spikes per run: &gt; mean + 6\u03c3 of the previous 50 values (OLMo 2 spike rule).</li>"),
            std::string::npos);
  // Every table sits in a horizontally scrolling box, so a wide one never widens the page.
  EXPECT_EQ(count_of(html, "<table>"), count_of(html, "<div class=\"scroll\"><table>"));
  EXPECT_NE(html.find(".scroll { overflow-x: auto;"), std::string::npos);
}

}  // namespace
}  // namespace hcx::report
