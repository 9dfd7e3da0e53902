// The HTML report in a real browser: Debian's chromium (installed by `make
// setup`), headless and offline, loads the file; the test asserts no console
// message, every chart's SVG present and drawn in the rendered DOM, and saves
// a screenshot under the build folder (test-artifacts/report/known.png).
// Installs nothing: a missing chromium fails the test with what to do.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "hcx/report/html.h"
#include "report/fixture.h"

namespace hcx::report {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// The chromium binary on PATH, or "".
std::string find_chromium() {
  for (const char* name : {"chromium", "chromium-browser"}) {
    const std::string cmd = std::string("command -v ") + name + " 2>/dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) continue;
    char buf[512] = {0};
    const bool found = fgets(buf, sizeof buf, p) != nullptr;
    pclose(p);
    if (found) {
      std::string path(buf);
      while (!path.empty() && (path.back() == '\n' || path.back() == '\r')) path.pop_back();
      return path;
    }
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
                        const std::string& mode) {
  static int n = 0;  // ctest runs tests as parallel processes: names carry the pid
  const std::string tag = std::to_string(::getpid()) + "-" + std::to_string(++n);
  const fs::path profile = work / ("profile-" + tag);
  const fs::path out = work / ("stdout-" + tag), err = work / ("stderr-" + tag);
  const std::string cmd = "timeout 120 '" + chromium +
                          "' --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                          "--disable-background-networking --disable-component-update --disable-sync "
                          "--hide-scrollbars --host-resolver-rules='MAP * ~NOTFOUND' --user-data-dir='" +
                          profile.string() + "' --enable-logging=stderr --v=0 --window-size=1400,2000 " + mode +
                          " 'file://" + page.string() + "' >'" + out.string() + "' 2>'" + err.string() + "'";
  BrowserRun r;
  const int raw = std::system(cmd.c_str());
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = read_file(out);
  r.log = read_file(err);
  std::error_code ec;
  for (const auto& p : {profile, out, err}) fs::remove_all(p, ec);
  return r;
}

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

// The <svg ...>...</svg> element with id `id` in `dom`, or "".
std::string svg_by_id(const std::string& dom, const std::string& id) {
  const size_t at = dom.find("id=\"" + id + "\"");
  if (at == std::string::npos) return "";
  const size_t start = dom.rfind("<svg", at), end = dom.find("</svg>", at);
  return start == std::string::npos || end == std::string::npos ? "" : dom.substr(start, end + 6 - start);
}

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
  const fs::path page = work_ / "known.html";
  {
    const ReportInput in = fixture::known_input();
    std::ofstream f(page);
    render_html(compute_report(in, ReportOptions{}), in, f);
  }
  const BrowserRun dom = run_chromium(chromium_, work_, page, "--dump-dom");
  ASSERT_EQ(dom.status, 0) << dom.log;
  EXPECT_TRUE(console_lines(dom.log).empty()) << dom.log;
  ASSERT_NE(dom.out.find("<h1>hcx report · known</h1>"), std::string::npos) << dom.out.substr(0, 400);
  // Every chart, as the browser parsed it: present and drawn.
  for (const char* id :
       {"chart-train-loss", "chart-val-loss", "chart-gap", "chart-collapse", "chart-layer-grad-norm"}) {
    const std::string svg = svg_by_id(dom.out, id);
    ASSERT_FALSE(svg.empty()) << id << " missing from the rendered page";
    EXPECT_NE(svg.find("<polyline class=\"line\""), std::string::npos) << id;
    EXPECT_NE(svg.find("<path class=\"band\""), std::string::npos) << id;
    EXPECT_EQ(svg.find("no data"), std::string::npos) << id;
  }
  for (const char* id : {"heatmap-1-unfolded--1", "heatmap-1-hc-0", "heatmap-1-hc-1", "heatmap-1-hc-2",
                         "heatmap-1-hc-3"}) {
    const std::string svg = svg_by_id(dom.out, id);
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

}  // namespace
}  // namespace hcx::report
