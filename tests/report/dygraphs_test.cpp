// Inlined dygraphs and the chart data it is given: where the library is
// looked for, what makes it safe inside the page, and the data table of a
// chart (reduction that keeps a spike, gaps, bands, shared rows, markers).
#include "hcx/report/dygraphs.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/temp_dir.h"

namespace hcx::report {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// The JSON of a rendered chart.
Json data_of(const std::string& figure) {
  const std::string open = "<script type=\"application/json\" class=\"hcx-chart\">";
  const size_t from = figure.find(open);
  if (from == std::string::npos) return Json();
  const size_t start = from + open.size();
  return Json::parse(figure.substr(start, figure.find("</script>", start) - start));
}

Series line(const std::string& name, std::vector<metrics::Point> pts) {
  Series s;
  s.name = name;
  s.color = "#0072B2";
  s.line = std::move(pts);
  return s;
}

TEST(Dygraphs, LooksInTheEnvironmentsFolderFirst) {
  ::unsetenv("HCX_DYGRAPHS_DIR");
  EXPECT_EQ(dygraphs_dir(), "/usr/share/javascript/dygraphs");
  ::setenv("HCX_DYGRAPHS_DIR", "", 1);  // empty: as if unset
  EXPECT_EQ(dygraphs_dir(), "/usr/share/javascript/dygraphs");
  ::setenv("HCX_DYGRAPHS_DIR", "/nowhere/at/all", 1);
  EXPECT_EQ(dygraphs_dir(), "/nowhere/at/all");
  EXPECT_FALSE(load_dygraphs());  // missing: no throw, the report falls back
  ::unsetenv("HCX_DYGRAPHS_DIR");
}

TEST(Dygraphs, InlinedTextCannotEndItsElement) {
  const hcx::test::TempDir assets("dygraphs");
  const fs::path& dir = assets.path();
  std::ofstream(dir / "dygraph.min.js") << "var Dygraph = 1; var s = '</SCRIPT>';\n//# sourceMappingURL=x.map\n";
  std::ofstream(dir / "dygraph.min.css") << ".dygraph-legend { x: 1 } /* </style> */\n";  // no dygraph.css
  ::setenv("HCX_DYGRAPHS_DIR", dir.string().c_str(), 1);
  const std::optional<DygraphsAssets> a = load_dygraphs();
  ::unsetenv("HCX_DYGRAPHS_DIR");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->dir, dir.string());
  EXPECT_EQ(a->js, "var Dygraph = 1; var s = '<\\/SCRIPT>';\n\n");
  EXPECT_EQ(a->css, ".dygraph-legend { x: 1 } /* <\\/style> */\n");
}

TEST(Dygraphs, ReductionKeepsTheSpikeAndGapsBreakTheLine) {
  LineChart c;
  c.id = "chart-x";
  c.title = "Training <loss>";
  c.max_buckets = 100;
  Series s = line("hc", {});
  for (int i = 0; i < 10000; ++i) s.line.push_back({static_cast<double>(i), 2.0 + 0.001 * (i % 3)});
  s.line[5000].y = 9.0;
  s.line[7000].y = NAN;
  s.markers.push_back({5000.4, 9.0});  // snaps to the drawn point at x = 5000
  s.marker_notes.push_back("seed 0, step 5000");
  s.markers.push_back({5000, 9.0});
  s.marker_notes.push_back("seed 1, step 5000");
  c.series.push_back(s);
  const std::string fig = render_dygraphs_chart(c);
  EXPECT_EQ(fig.rfind("<figure class=\"chart dygraph\" id=\"chart-x\">", 0), 0u);
  EXPECT_NE(fig.find("<span class=\"title\">Training &lt;loss&gt;</span>"), std::string::npos);
  const Json j = data_of(fig);
  const Json& rows = j["data"];
  EXPECT_LE(rows.size(), 2u * 100 + 2 + 1);  // min/max per bucket, plus the gap's own row
  EXPECT_GE(rows.size(), 100u);
  bool spike = false, gap = false;
  for (const auto& r : rows) {
    ASSERT_EQ(r.size(), 2u);
    if (r[0] == 5000) spike = r[1] == Json::array({9, 9, 9});
    if (r[0] == 7000) gap = r[1] == "gap";
  }
  EXPECT_TRUE(spike);
  EXPECT_TRUE(gap);
  EXPECT_EQ(j["annotations"], Json::parse(R"([{"series": "hc", "x": 5000, "shortText": "\u25b2",
                                             "text": "seed 0, step 5000\nseed 1, step 5000", "cssClass": "hcx-spike"}])"));
}

TEST(Dygraphs, SeriesShareRowsAndKeepTheirBands) {
  LineChart c;
  c.id = "chart-y";
  c.x_label = "tokens";
  Series a = line("a", {{0, 1}, {10, 2}, {20, 3}});
  a.band_low = {{0, 0.5}, {20, 2.5}};  // no band at x = 10
  a.band_high = {{0, 1.5}, {20, 3.5}};
  Series b = line("a", {{10, 5}, {15, 6}});  // same name: dygraphs needs unique labels
  b.dashed = true;
  c.series = {a, b};
  c.ref_y = 0.0;
  const Json j = data_of(render_dygraphs_chart(c));
  EXPECT_EQ(j["labels"], Json::array({"tokens", "a", "a (2)"}));
  EXPECT_EQ(j["dashed"], Json::array({false, true}));
  EXPECT_EQ(j["ref_y"], 0.0);
  EXPECT_EQ(j["data"], Json::parse(R"([[0, [0.5, 1, 1.5], null],
                                       [10, [2, 2, 2], [5, 5, 5]],
                                       [15, null, [6, 6, 6]],
                                       [20, [2.5, 3, 3.5], null]])"));
  // y from the bands and the reference line, padded by 4%.
  EXPECT_NEAR(j["value_range"][0].get<double>(), -0.24, 1e-12);
  EXPECT_NEAR(j["value_range"][1].get<double>(), 6.24, 1e-12);
}

TEST(Dygraphs, ManySeriesGetFewerRows) {
  LineChart c;
  c.id = "chart-many";
  for (int k = 0; k < 100; ++k) {
    Series s = line("run " + std::to_string(k), {});
    for (int i = 0; i < 5000; ++i) s.line.push_back({static_cast<double>(i * 100 + k), 1.0 + (i % 7)});
    c.series.push_back(s);
  }
  const Json j = data_of(render_dygraphs_chart(c));
  // 25 buckets each (250000 / 100²): at most 52 points per series, no x shared.
  EXPECT_LE(j["data"].size(), 100u * 52);
  EXPECT_GE(j["data"].size(), 100u * 25);
}

TEST(Dygraphs, NoDataSaysSo) {
  LineChart c;
  c.id = "chart-empty";
  c.series.push_back(line("a", {}));
  const std::string fig = render_dygraphs_chart(c);
  EXPECT_NE(fig.find("<p class=\"empty\">no data</p>"), std::string::npos);
  EXPECT_EQ(fig.find("hcx-chart"), std::string::npos);
  LineChart log;
  log.id = "chart-log";
  log.log_y = true;
  log.series.push_back(line("a", {{0, -1}, {1, 0}}));  // nothing positive on a log axis
  EXPECT_NE(render_dygraphs_chart(log).find("no data"), std::string::npos);
}

TEST(Dygraphs, PageScriptDrawsEveryChartAndHasTheSelfTest) {
  const std::string js = dygraphs_page_script();
  EXPECT_NE(js.find("document.querySelectorAll('script.hcx-chart')"), std::string::npos);
  EXPECT_NE(js.find("customBars: true"), std::string::npos);
  EXPECT_NE(js.find("g.setVisibility(i, input.checked)"), std::string::npos);
  EXPECT_NE(js.find("g.adjustRoll(n)"), std::string::npos);
  EXPECT_NE(js.find("location.hash !== '#hcx-selftest'"), std::string::npos);
  EXPECT_EQ(js.find("</script"), std::string::npos);
  EXPECT_EQ(std::string(dygraphs_page_style()).find("</style"), std::string::npos);
}

}  // namespace
}  // namespace hcx::report
