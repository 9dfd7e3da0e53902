// End to end: `hcx report --best-of` on the tuned database chooses each
// group's learning rate, holds seeds out with --select-seeds/--report-seeds,
// names the collapsed group in the table, JSON and HTML, and exits 2 with a
// message for a bad key, a seed no run has, or a group left without runs.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "report/fixture.h"
#include "report/tuned_fixture.h"

namespace {

using hcx::test::TempDir;

using Out = hcx::test::ReportOutput;

// Runs `hcx report args` without colour (stdout not a terminal, stderr apart).
Out hcx_report(const TempDir& dir, const std::string& args) {
  return hcx::test::run_hcx_report(dir.path(), args, "NO_COLOR=");
}

class CliReportBestOf : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_ / "hcx.db";
    hcx::report::fixture::write_db(db_, hcx::report::fixture::tuned_input());
  }
  Out report(const std::string& args) { return hcx_report(dir_, "--db '" + db_ + "' " + args); }
  TempDir dir_;
  std::string db_;
};

TEST_F(CliReportBestOf, TableShowsChosenValuesAndCollapse) {
  const Out r = report("--best-of train.lr");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("group                  best train.lr  seeds"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Pre-Norm                       0.001    3/3  2.1000 ± 0.1000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("DHC×2                          0.003    3/3  1.7500 ± 0.1803"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Post-Norm (collapsed)          0.003    3/3  4.2000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Post-Norm collapsed at lr=0.003: final train loss 4.1700 ≥ ln 64 = 4.1589 "
                       "(run post_norm-lr0.003-s0; 3 of 3 runs).\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("best DHC×2, worst Pre-Norm.\nnot ranked (collapsed; --include-collapsed ranks them): "
                       "Post-Norm.\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("so the chosen figures are biased low"), std::string::npos) << r.out;
}

TEST_F(CliReportBestOf, HeldOutSeedsInJson) {
  const Out r = report("--best-of train.lr --select-seeds 0 --report-seeds 1,2 --include-collapsed --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["seeds"], nlohmann::json::array({"1", "2"}));
  EXPECT_EQ(j["best_of"]["select_seeds"], nlohmann::json::array({"0"}));
  EXPECT_EQ(j["best_of"]["report_seeds"], nlohmann::json::array({"1", "2"}));
  EXPECT_EQ(j["groups"][1]["label"], "DHC×2");
  EXPECT_EQ(j["groups"][1]["best_of"]["chosen"]["train.lr"], "0.001");
  EXPECT_EQ(j["groups"][1]["n"], 2);
  EXPECT_NEAR(j["groups"][1]["delta"]["mean"].get<double>(), -0.3, 1e-12);
  EXPECT_EQ(j["ranking"], nlohmann::json::array({"DHC×2", "Pre-Norm", "Post-Norm"}));
  EXPECT_EQ(j["groups"][2]["collapsed"]["of"], 2);
}

TEST_F(CliReportBestOf, HtmlShowsChosenValuesAndCollapse) {
  const std::string html = dir_ / "report.html";
  const Out r = report("--best-of train.lr --format html -o '" + html + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string page = hcx::test::read_file(html);
  EXPECT_NE(page.find("best train.lr"), std::string::npos);
  EXPECT_NE(page.find("Post-Norm (collapsed)"), std::string::npos);
  EXPECT_NE(page.find("Post-Norm collapsed at lr=0.003"), std::string::npos);
}

TEST_F(CliReportBestOf, BadInputExits2) {
  const struct {
    const char* args;
    const char* message;
  } cases[] = {
      {"--best-of train.lrr", "--best-of train.lrr: unknown key (did you mean 'train.lr'?)"},
      {"--best-of train.lr --select-seeds 7", "--select-seeds 7: no selected run has seed 7 (seeds: 0, 1, 2)"},
      {"--best-of train.lr --report-seeds 1,5", "--report-seeds 5: no selected run has seed 5 (seeds: 0, 1, 2)"},
      {"--report-seeds 1", "--report-seeds needs --best-of KEY"},
      {"--best-of train.lr --group-by train.lr", "--best-of train.lr: also a --group-by key"},
  };
  for (const auto& c : cases) {
    const Out r = report(c.args);
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << "\n" << r.err;
  }
}

TEST_F(CliReportBestOf, GroupWithoutRunsExits2) {
  hcx::report::ReportInput in = hcx::report::fixture::tuned_input();
  std::vector<hcx::report::RunData> kept;
  for (auto& run : in.runs) {
    if (run.id == "hc-lr0.003-s1" || run.id == "hc-lr0.003-s2") continue;
    if (run.id == "hc-lr0.003-s0") run.curves["val/loss"].values.back() = 1.5;  // wins on seed 0
    kept.push_back(std::move(run));
  }
  in.runs = std::move(kept);
  hcx::report::fixture::write_db(db_, in);
  const Out r = report("--best-of train.lr --select-seeds 0 --report-seeds 1,2");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("DHC×2: no run left at its best 0.003 on --report-seeds 1, 2"), std::string::npos) << r.err;
}

}  // namespace
