// End to end: `hcx report` on a results database with known numbers prints
// the known table and JSON, writes the HTML file, exports every row, merges
// shards first, and exits 2 with a message on bad input.
#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "report/fixture.h"

namespace {

using hcx::test::TempDir;

using Out = hcx::test::ReportOutput;

// Runs `hcx report args` (stdout not a terminal, stderr apart).
Out hcx_report(const TempDir& dir, const std::string& args, const std::string& env = "") {
  return hcx::test::run_hcx_report(dir.path(), args, env);
}

class CliReport : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_ / "hcx.db";
    hcx::report::fixture::write_db(db_, hcx::report::fixture::known_input());
  }
  // Writes `in` as a shard of db_ (what `hcx run --shard` leaves on a cluster).
  void fs_shard(const hcx::report::ReportInput& in) {
    hcx::report::fixture::write_db(dir_ / ("shards/" + in.runs[0].id + ".db"), in);
  }
  TempDir dir_;
  std::string db_;
};

TEST_F(CliReport, KnownTableAndJson) {
  const Out table = hcx_report(dir_, "--db '" + db_ + "'", "NO_COLOR=");
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_EQ(table.out, hcx::report::fixture::known_table());  // not a terminal: no colour

  const Out json = hcx_report(dir_, "--db '" + db_ + "' --sweep known --format json");
  ASSERT_EQ(json.code, 0) << json.err;
  const auto j = nlohmann::json::parse(json.out);
  const auto& hc = j["groups"][1];
  EXPECT_EQ(hc["label"], "DHC×2");
  EXPECT_NEAR(hc["val_loss_final"]["mean"].get<double>(), 1.9, 1e-9);
  EXPECT_NEAR(hc["val_loss_final"]["std"].get<double>(), 0.08, 1e-9);
  EXPECT_NEAR(hc["delta"]["mean"].get<double>(), -0.1, 1e-9);
  EXPECT_NEAR(hc["delta"]["ci_low"].get<double>(), -0.1496827, 1e-6);
  EXPECT_NEAR(hc["delta"]["ci_high"].get<double>(), -0.0503173, 1e-6);
  EXPECT_NEAR(hc["speedup"]["value"].get<double>(), 10.0 / 7.0, 1e-9);
  EXPECT_NEAR(j["groups"][0]["loss_spikes"]["mean"].get<double>(), 1.0, 1e-9);
}

// Runs compared that another build trained, or on other data: a footnote says so.
TEST_F(CliReport, FootnoteWhenRunsComparedCameFromDifferentBuildsOrData) {
  {
    SQLite::Database d(db_, SQLite::OPEN_READWRITE);
    d.exec("UPDATE runs SET code_version = '0.2.0', code_commit = '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d', "
           "data_id = 'synthetic'");
    d.exec("UPDATE runs SET code_version = '0.1.0', data_id = '10:00000000000000ff' WHERE id = 'hc-seed2'");
  }
  const Out md = hcx_report(dir_, "--db '" + db_ + "' --format md");
  ASSERT_EQ(md.code, 0) << md.err;
  EXPECT_NE(md.out.find("- note: runs compared were trained by 2 builds: 0.2.0 1a2b3c4 (5 runs), 0.1.0 1a2b3c4 (1 run); "
                        "hcx sweep --retrain-stale trains the stale ones again with this build\n"),
            std::string::npos)
      << md.out;
  EXPECT_NE(md.out.find("- note: runs compared were trained on 2 different data (runs.data_id): synthetic (5 runs), "
                        "10:00000000000000ff (1 run)\n"),
            std::string::npos)
      << md.out;
  // All alike: no such note.
  {
    SQLite::Database d(db_, SQLite::OPEN_READWRITE);
    d.exec("UPDATE runs SET code_version = '0.2.0', data_id = 'synthetic'");
  }
  const Out same = hcx_report(dir_, "--db '" + db_ + "' --format md");
  EXPECT_EQ(same.out.find("runs compared were trained"), std::string::npos) << same.out;
}

TEST_F(CliReport, FlagsReachTheLibrary) {
  const Out r = hcx_report(dir_, "--db '" + db_ + "' --where seed=0 --where seed=0 --baseline residual.kind=hc "
                                  "--metric train/loss --format csv");
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream in(r.out);
  std::string head, first, second;
  std::getline(in, head);
  std::getline(in, first);
  std::getline(in, second);
  EXPECT_EQ(first.rfind("DHC×2,DHC×2,hc,1,1,,2.", 0), 0u) << first;  // baseline hc first, one seed, train loss 2.905
  EXPECT_EQ(second.rfind("Pre-Norm,DHC×2,pre_norm,1,1,,3.0025,,", 0), 0u) << second;

  const Out md = hcx_report(dir_, "--db '" + db_ + "' --group-by residual.kind,seed --format md");
  ASSERT_EQ(md.code, 0) << md.err;
  EXPECT_NE(md.out.find("| **Pre-Norm seed=0** |"), std::string::npos) << md.out;
}

TEST_F(CliReport, HtmlFileAndExports) {
  const std::string html = dir_ / "out/report.html";
  const Out r = hcx_report(dir_, "--db '" + db_ + "' --format html -o '" + html + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("wrote " + html), std::string::npos) << r.err;
  const std::string page = hcx::test::read_file(html);
  EXPECT_NE(page.find("id=\"chart-val-loss\""), std::string::npos);

  const Out m = hcx_report(dir_, "--db '" + db_ + "' --where residual.kind=hc --export metrics");
  ASSERT_EQ(m.code, 0) << m.err;
  EXPECT_EQ(std::count(m.out.begin(), m.out.end(), '\n'), 1 + 3 * 7);  // header + 3 runs × 7 points
  EXPECT_EQ(m.out.substr(0, 50), "run_id,name,step,value\nhc-seed0,train/loss,1,3\nhc-");

  const Out e = hcx_report(dir_, "--db '" + db_ + "' --export evals --format json");
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_EQ(nlohmann::json::parse(e.out).size(), 6u * 3 + 3);  // 3 rows per run, +1 hellaswag per hc run
}

TEST_F(CliReport, MergesShardsFirst) {
  // A run written on a cluster node: its own shard next to the main database.
  hcx::report::ReportInput shard = hcx::report::fixture::known_input();
  shard.runs.erase(shard.runs.begin(), shard.runs.begin() + 5);  // keep hc seed 2
  shard.runs[0].id = "hc-seed3";
  shard.runs[0].params["seed"] = "3";
  fs_shard(shard);
  const Out r = hcx_report(dir_, "--db '" + db_ + "' --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["runs"], 7);
  EXPECT_EQ(j["groups"][1]["n"], 4);
  ASSERT_EQ(j["groups"][0]["missing"].size(), 1u);  // pre_norm has no seed 3: shown, not hidden
  EXPECT_EQ(j["groups"][0]["missing"][0]["seed"], "3");
}

TEST_F(CliReport, ColourOnlyOnATerminalWithoutNoColor) {
  // script(1) (util-linux, essential in Debian) gives the command a terminal.
  auto on_tty = [&](const std::string& env, const std::string& args) {
    const std::string cmd = env + " script -qec \"" + std::string(HCX_BINARY) + " report --db '" + db_ + "' " + args +
                            "\" /dev/null 2>&1";
    return hcx::test::capture(cmd).output;
  };
  const std::string coloured = on_tty("NO_COLOR=", "");
  EXPECT_NE(coloured.find("\033[32m\u22120.1000 [\u22120.1497, \u22120.0503]\033[0m"), std::string::npos) << coloured;
  const std::string plain = on_tty("NO_COLOR=1", "");
  EXPECT_EQ(plain.find("\033["), std::string::npos) << plain;
  EXPECT_NE(plain.find("\u22120.1000 [\u22120.1497, \u22120.0503]"), std::string::npos) << plain;
  // HTML to a terminal would be noise: it needs -o.
  EXPECT_NE(on_tty("", "--format html").find("--format html writes a file: add -o report.html"), std::string::npos);
}

TEST_F(CliReport, BadInputExitsTwo) {
  struct Case {
    std::string args, message;
  };
  const Case cases[] = {
      {"--sweep knwon", "--sweep knwon: no such sweep in"},
      {"--where trian.steps=1", "--where trian.steps: unknown key (did you mean 'train.steps'?)"},
      {"--where seed", "--where seed: expected key=value"},
      {"--group-by residual.knd", "--group-by residual.knd: unknown key (did you mean 'residual.kind'?)"},
      {"--metric val/los", "--metric val/los: no selected run recorded it (recorded: train/loss, val/loss)"},
      {"--where seed=9", "no runs selected in sweep known"},
      {"--format xml", "--format: xml not in {table,md,csv,json,html}"},
      {"--export curves", "--export: curves not in {metrics,runs,evals}"},
      {"--export metrics --format md", "--export: --format must be csv or json, got md"},
  };
  for (const auto& c : cases) {
    const Out r = hcx_report(dir_, "--db '" + db_ + "' " + c.args);
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_EQ(r.out, "") << c.args;
  }
  const Out missing = hcx_report(dir_, "--db '" + (dir_ / "none.db").string() + "'");
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("no results database here"), std::string::npos) << missing.err;
}

}  // namespace
