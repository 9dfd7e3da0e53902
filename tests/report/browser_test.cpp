// The HTML report in a real browser: Debian's chromium (installed by `make
// setup`), headless and offline, loads the file; the tests assert no console
// message, every dygraphs chart drawn (canvases in the rendered DOM), what
// the page's own self-test (#hcx-selftest, dygraphs.h) saw when it hovered
// and toggled a series, the static SVG fallback without dygraphs, and save a
// screenshot under the build folder (test-artifacts/report/known.png).
// Installs nothing: a missing chromium or dygraphs fails with what to do.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/process.h"
#include "common/text.h"
#include "hcx/report/dygraphs.h"
#include "hcx/report/html.h"
#include "report/fixture.h"

namespace hcx::report {
namespace {

namespace fs = std::filesystem;

using hcx::test::read_file;

// The chromium binary on PATH, or "".
std::string find_chromium() {
  for (const char* name : {"chromium", "chromium-browser"}) {
    const std::string out = hcx::test::capture(std::string("command -v ") + name + " 2>/dev/null").output;
    if (!out.empty()) return out.substr(0, out.find_first_of("\r\n"));  // its first line
  }
  return "";
}

struct BrowserRun {
  int status = -1;
  std::string out;  // stdout (the DOM with --dump-dom)
  std::string log;  // stderr (chromium's log, console messages included)
};

// Runs headless chromium, offline (every host name fails to resolve), on
// `page` with `mode` ("--dump-dom" or "--screenshot=..."), in a fresh profile.
BrowserRun run_chromium(const std::string& chromium, const fs::path& work, const fs::path& page,
                        const std::string& mode, const std::string& fragment = "") {
  static int n = 0;  // ctest runs tests as parallel processes: names carry the pid
  const std::string tag = std::to_string(::getpid()) + "-" + std::to_string(++n);
  const fs::path profile = work / ("profile-" + tag);
  const fs::path out = work / ("stdout-" + tag), err = work / ("stderr-" + tag);
  const std::string cmd = "timeout 120 '" + chromium +
                          "' --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                          "--disable-background-networking --disable-component-update --disable-sync "
                          "--hide-scrollbars --host-resolver-rules='MAP * ~NOTFOUND' --user-data-dir='" +
                          profile.string() + "' --enable-logging=stderr --v=0 --window-size=1400,2000 " + mode +
                          " 'file://" + page.string() + fragment + "' >'" + out.string() + "' 2>'" + err.string() + "'";
  BrowserRun r;
  const int raw = std::system(cmd.c_str());
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = read_file(out);
  r.log = read_file(err);
  std::error_code ec;
  for (const auto& p : {profile, out, err}) fs::remove_all(p, ec);
  return r;
}

using hcx::test::count_of;

// Lines of chromium's log that carry a page's console message or error.
std::vector<std::string> console_lines(const std::string& log) {
  std::vector<std::string> found;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.find(":CONSOLE") != std::string::npos || line.find("Uncaught") != std::string::npos) {
      found.push_back(line);
    }
  }
  return found;
}

// The element <tag ...>...</tag> with id `id` in `dom`, or "".
std::string element_by_id(const std::string& dom, const std::string& tag, const std::string& id) {
  const size_t at = dom.find("id=\"" + id + "\"");
  if (at == std::string::npos) return "";
  const size_t start = dom.rfind("<" + tag, at), end = dom.find("</" + tag + ">", at);
  return start == std::string::npos || end == std::string::npos ? "" : dom.substr(start, end + tag.size() + 3 - start);
}

// Text as the DOM serializer escapes it, unescaped.
std::string unescape(std::string s) {
  for (const auto& [from, to] : {std::pair<std::string, std::string>{"&lt;", "<"}, {"&gt;", ">"}, {"&nbsp;", "\u00a0"},
                                 {"&amp;", "&"}}) {
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  }
  return s;
}

void write_report(const fs::path& page, const ReportInput& in) {
  std::ofstream f(page);
  render_html(compute_report(in, ReportOptions{}), in, f);
}

const char* const kCurveCharts[] = {"chart-train-loss", "chart-val-loss", "chart-gap", "chart-collapse",
                                    "chart-layer-grad-norm"};
const char* const kHeatmaps[] = {"heatmap-1-unfolded--1", "heatmap-1-hc-0", "heatmap-1-hc-1", "heatmap-1-hc-2",
                                 "heatmap-1-hc-3"};

class Browser : public ::testing::Test {
 protected:
  void SetUp() override {
    chromium_ = find_chromium();
    ASSERT_FALSE(chromium_.empty())
        << "chromium is not installed: the HTML report is checked in a real browser. Run `make setup` "
           "(it installs Debian's chromium package) or `apt-get install chromium`.";
    work_ = fs::path(HCX_BUILD_DIR) / "test-artifacts" / "report";
    fs::create_directories(work_);
  }
  std::string chromium_;
  fs::path work_;
};

TEST_F(Browser, ConsoleScanCatchesAPageError) {
  // The check below must be able to fail: a page that throws is caught.
  const fs::path page = work_ / "broken.html";
  std::ofstream(page) << "<!DOCTYPE html><html><body><p>x</p><script>console.error('boom'); nope();</script>"
                         "</body></html>\n";
  const BrowserRun r = run_chromium(chromium_, work_, page, "--dump-dom");
  EXPECT_EQ(r.status, 0) << r.log;
  const auto lines = console_lines(r.log);
  ASSERT_EQ(lines.size(), 2u) << r.log;
  EXPECT_NE(lines[0].find("boom"), std::string::npos);
  EXPECT_NE(lines[1].find("Uncaught ReferenceError: nope is not defined"), std::string::npos);
}

TEST_F(Browser, ReportRendersWithoutErrors) {
  ASSERT_TRUE(load_dygraphs()) << dygraphs_dir() << "/dygraph.min.js is missing: run `make setup` or "
                               << "`apt-get install libjs-dygraphs`.";
  const fs::path page = work_ / "known.html";
  write_report(page, fixture::known_input_with_running());
  const BrowserRun dom = run_chromium(chromium_, work_, page, "--dump-dom");
  ASSERT_EQ(dom.status, 0) << dom.log;
  EXPECT_TRUE(console_lines(dom.log).empty()) << dom.log;
  ASSERT_NE(dom.out.find("<h1>hcx report · known</h1>"), std::string::npos) << dom.out.substr(0, 400);
  // Every curve chart, as the page's script left it: dygraphs drew its two
  // canvases (plot and overlay), the legend, the toggles and the controls.
  for (const char* id : kCurveCharts) {
    const std::string fig = element_by_id(dom.out, "figure", id);
    ASSERT_FALSE(fig.empty()) << id << " missing from the rendered page";
    EXPECT_NE(fig.find("data-drawn=\"2\""), std::string::npos) << id << ": " << fig.substr(0, 300);
    EXPECT_EQ(count_of(fig, "<canvas"), 2u) << id;
    // Below the plot: the series toggles (the key), then dygraphs' legend, empty until a hover.
    EXPECT_LT(fig.find("<div class=\"plot\">"), fig.find("<div class=\"toggles\"><label><input type=\"checkbox\" class=\"series\""))
        << id;
    EXPECT_NE(fig.find("<div class=\"legend\"><span class=\"hint\">hover over the chart for values</span></div>"),
              std::string::npos)
        << id;
    EXPECT_NE(fig.find("<input type=\"checkbox\" class=\"series\""), std::string::npos) << id;
    EXPECT_NE(fig.find("<input type=\"number\" class=\"roll\""), std::string::npos) << id;
  }
  // The spike, and the running run's series with its toggle.
  const std::string train = element_by_id(dom.out, "figure", "chart-train-loss");
  EXPECT_EQ(count_of(train, "dygraph-annotation"), 1u) << train;
  EXPECT_NE(train.find("title=\"seed 0, step 3: 4 (6.5σ)\""), std::string::npos) << train;
  EXPECT_NE(train.find("DHC×2 seed 3 (running, step 200)"), std::string::npos);
  EXPECT_EQ(count_of(train, "class=\"series\""), 3u);
  EXPECT_EQ(count_of(train, "<button"), 0u);  // all/none only from four series on
  for (const char* id : kHeatmaps) {
    const std::string svg = element_by_id(dom.out, "svg", id);
    ASSERT_FALSE(svg.empty()) << id << " missing from the rendered page";
    EXPECT_NE(svg.find("<rect "), std::string::npos) << id;
  }

  const fs::path shot = work_ / "known.png";
  fs::remove(shot);
  const BrowserRun s = run_chromium(chromium_, work_, page, "--screenshot='" + shot.string() + "'");
  ASSERT_EQ(s.status, 0) << s.log;
  EXPECT_TRUE(console_lines(s.log).empty()) << s.log;
  const std::string png = read_file(shot);
  ASSERT_GT(png.size(), 24u) << "no screenshot at " << shot;
  EXPECT_EQ(png.substr(1, 3), "PNG");
  auto be32 = [&](size_t at) {
    return (static_cast<unsigned>(static_cast<unsigned char>(png[at])) << 24) |
           (static_cast<unsigned>(static_cast<unsigned char>(png[at + 1])) << 16) |
           (static_cast<unsigned>(static_cast<unsigned char>(png[at + 2])) << 8) |
           static_cast<unsigned>(static_cast<unsigned char>(png[at + 3]));
  };
  EXPECT_EQ(be32(16), 1400u);  // IHDR width
  EXPECT_EQ(be32(20), 2000u);  // IHDR height
  // A blank page of this size compresses to ~13 KB; tables, curves and heatmaps do not.
  EXPECT_GT(png.size(), 60000u) << "the screenshot looks empty: " << shot;
}

TEST_F(Browser, HoverShowsValuesAndTogglingHidesASeries) {
  ASSERT_TRUE(load_dygraphs()) << dygraphs_dir() << "/dygraph.min.js is missing: run `make setup`.";
  const fs::path page = work_ / "selftest.html";
  write_report(page, fixture::known_input_with_running());
  const BrowserRun dom = run_chromium(chromium_, work_, page, "--dump-dom", "#hcx-selftest");
  ASSERT_EQ(dom.status, 0) << dom.log;
  EXPECT_TRUE(console_lines(dom.log).empty()) << dom.log;
  const std::string pre = element_by_id(dom.out, "pre", "hcx-selftest");
  ASSERT_FALSE(pre.empty()) << "the page's self-test wrote nothing";
  const size_t from = pre.find('>') + 1;
  const nlohmann::json r = nlohmann::json::parse(unescape(pre.substr(from, pre.rfind("</pre>") - from)));
  EXPECT_EQ(r["charts"], nlohmann::json::array({"chart-train-loss:2", "chart-val-loss:2", "chart-gap:2",
                                                "chart-collapse:2", "chart-layer-grad-norm:2"}));
  // The mouse over step 2 (32 tokens) of the training loss: the legend shows each series' EMA there.
  EXPECT_EQ(r["hover"]["row"], 1);
  EXPECT_EQ(r["hover"]["x"], 32);
  EXPECT_EQ(r["hover"]["legend"],
            "32: Pre-Norm:\u00a02.95 DHC×2:\u00a02.9 DHC×2 seed 3 (running, step 200):\u00a03.45");
  EXPECT_EQ(r["annotations"], 1);  // the pre_norm spike on the first chart, before its series is hidden
  // Unticking Pre-Norm's box hides it: dygraphs' visibility and the legend agree.
  EXPECT_EQ(r["toggle"]["visibility"], nlohmann::json::array({false, true, true}));
  EXPECT_EQ(r["toggle"]["legend"], "32: DHC×2:\u00a02.9 DHC×2 seed 3 (running, step 200):\u00a03.45");
  EXPECT_EQ(r["log_x"], true);
  EXPECT_EQ(r["roll"], 2);
}

TEST_F(Browser, WithoutDygraphsTheStaticCurvesRender) {
  const hcx::test::TempDir empty("no_dygraphs");
  ::setenv("HCX_DYGRAPHS_DIR", empty.path().c_str(), 1);
  const fs::path page = work_ / "static.html";
  write_report(page, fixture::known_input_with_running());
  ::unsetenv("HCX_DYGRAPHS_DIR");
  const BrowserRun dom = run_chromium(chromium_, work_, page, "--dump-dom");
  ASSERT_EQ(dom.status, 0) << dom.log;
  EXPECT_TRUE(console_lines(dom.log).empty()) << dom.log;
  EXPECT_NE(dom.out.find("id=\"no-dygraphs\""), std::string::npos);
  for (const char* id : kCurveCharts) {
    const std::string svg = element_by_id(dom.out, "svg", id);
    ASSERT_FALSE(svg.empty()) << id << " missing from the rendered page";
    EXPECT_NE(svg.find("<polyline class=\"line\""), std::string::npos) << id;
    EXPECT_NE(svg.find("<path class=\"band\""), std::string::npos) << id;
    EXPECT_EQ(svg.find("no data"), std::string::npos) << id;
  }
  EXPECT_NE(element_by_id(dom.out, "svg", "chart-val-loss").find("<polyline class=\"line dashed\""),
            std::string::npos);
}

}  // namespace
}  // namespace hcx::report
