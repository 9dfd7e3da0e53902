// report_command end to end on a results database with known numbers: every
// figure of the JSON output and the rendered table.
#include "hcx/report/report.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "hcx/error.h"
#include "report/fixture.h"

namespace hcx::report {
namespace {

namespace fs = std::filesystem;

class RunReport : public fixture::KnownDbTest {
 protected:
  void SetUp() override {
    KnownDbTest::SetUp();
    cmd_.db = db_path_.string();
  }
  std::string run(const ReportCommand& cmd) {
    std::ostringstream out;
    EXPECT_EQ(report_command(cmd, out), 0);
    return out.str();
  }
  ReportCommand cmd_;
};

void expect_stat(const nlohmann::json& s, int n, double mean, double std, const std::string& what) {
  EXPECT_EQ(s["n"], n) << what;
  EXPECT_NEAR(s["mean"].get<double>(), mean, 1e-9) << what;
  EXPECT_NEAR(s["std"].get<double>(), std, 1e-9) << what;
}

TEST_F(RunReport, JsonHasEveryKnownFigure) {
  cmd_.format = "json";
  const nlohmann::json j = nlohmann::json::parse(run(cmd_));
  EXPECT_EQ(j["sweep"], "known");
  EXPECT_EQ(j["runs"], 6);
  EXPECT_EQ(j["seeds"], (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(j["group_by"], std::vector<std::string>{"residual.kind"});
  EXPECT_EQ(j["definitions"]["spike_rule"], "> mean + 6σ of the previous 50 values");
  ASSERT_EQ(j["groups"].size(), 2u);

  const auto& b = j["groups"][0];
  EXPECT_EQ(b["label"], "Pre-Norm");
  EXPECT_EQ(b["is_baseline"], true);
  EXPECT_EQ(b["n"], 3);
  EXPECT_TRUE(b["missing"].empty());
  expect_stat(b["metric_final"], 3, 2.0, 0.1, "pre_norm metric_final");
  expect_stat(b["metric_best"], 3, 2.0, 0.1, "pre_norm metric_best");
  expect_stat(b["val_loss_final"], 3, 2.0, 0.1, "pre_norm val_loss_final");
  expect_stat(b["val_loss_best"], 3, 2.0, 0.1, "pre_norm val_loss_best");
  expect_stat(b["train_loss_final"], 3, 3.0025, 0.0, "pre_norm train_loss_final");
  expect_stat(b["train_loss_best"], 3, 2.95, 0.0, "pre_norm train_loss_best");
  expect_stat(b["loss_spikes"], 3, 1.0, 1.0, "pre_norm loss_spikes");
  expect_stat(b["grad_norm_spikes"], 3, 1.0 / 3, std::sqrt(1.0 / 3), "pre_norm grad_norm_spikes");
  expect_stat(b["tokens_per_s"], 3, 1100, 100, "pre_norm tokens_per_s");
  expect_stat(b["params"], 3, 1000, 0, "pre_norm params");
  expect_stat(b["downstream"]["piqa/acc"], 3, 0.62, 0.02, "pre_norm piqa/acc");
  EXPECT_FALSE(b["downstream"].contains("hellaswag/acc_norm"));
  EXPECT_TRUE(b["delta"].is_null());
  EXPECT_NEAR(b["speedup"]["value"].get<double>(), 1.0, 1e-12);

  const auto& h = j["groups"][1];
  EXPECT_EQ(h["label"], "DHC×2");
  EXPECT_EQ(h["baseline"], "Pre-Norm");
  expect_stat(h["metric_final"], 3, 1.9, 0.08, "hc metric_final");
  expect_stat(h["metric_best"], 3, 1.9, 0.08, "hc metric_best");
  expect_stat(h["val_loss_final"], 3, 1.9, 0.08, "hc val_loss_final");
  expect_stat(h["val_loss_best"], 3, 1.9, 0.08, "hc val_loss_best");
  expect_stat(h["train_loss_final"], 3, 2.905, 0.0, "hc train_loss_final");
  expect_stat(h["train_loss_best"], 3, 2.9, 0.0, "hc train_loss_best");
  expect_stat(h["loss_spikes"], 3, 0, 0, "hc loss_spikes");
  expect_stat(h["grad_norm_spikes"], 3, 0, 0, "hc grad_norm_spikes");
  expect_stat(h["tokens_per_s"], 3, 800, 0, "hc tokens_per_s");
  expect_stat(h["params"], 3, 1100, 0, "hc params");
  expect_stat(h["downstream"]["piqa/acc"], 3, 0.66, 0.01, "hc piqa/acc");
  expect_stat(h["downstream"]["hellaswag/acc_norm"], 3, 0.32, 0.02, "hc hellaswag/acc_norm");
  const auto& d = h["delta"];
  EXPECT_EQ(d["n"], 3);
  EXPECT_NEAR(d["mean"].get<double>(), -0.1, 1e-12);
  EXPECT_NEAR(d["std"].get<double>(), 0.02, 1e-12);
  EXPECT_NEAR(d["ci_low"].get<double>(), -0.1496827, 1e-6);
  EXPECT_NEAR(d["ci_high"].get<double>(), -0.0503173, 1e-6);
  EXPECT_EQ(d["level"], 0.95);
  EXPECT_EQ(d["contains_zero"], false);
  const auto& s = h["speedup"];
  EXPECT_NEAR(s["value"].get<double>(), 10.0 / 7.0, 1e-12);
  EXPECT_EQ(s["reached"], true);
  EXPECT_NEAR(s["target"].get<double>(), 2.5, 1e-12);
  EXPECT_NEAR(s["baseline_tokens"].get<double>(), 6400, 1e-9);
  EXPECT_NEAR(s["tokens"].get<double>(), 4480, 1e-9);
  EXPECT_EQ(s["alpha"], 0.5);
  ASSERT_EQ(s["per_pair"].size(), 3u);
  EXPECT_NEAR(s["per_pair"][1]["value"].get<double>(), 6400.0 / 4416.0, 1e-9);
  EXPECT_NEAR(s["per_pair"][2]["value"].get<double>(), 6400.0 / 4544.0, 1e-9);
}

// The known sweep with hc's final val/loss moved to the baseline's plus
// `diffs` (per seed): a Δ of the size and spread the seed count depends on.
void write_close_call(const fs::path& db, const std::vector<double>& diffs) {
  ReportInput in = fixture::known_input();
  for (int seed = 0; seed < 3; ++seed) {
    in.runs[3 + seed].curves["val/loss"].values.back() = in.runs[seed].curves["val/loss"].values.back() + diffs[seed];
  }
  fixture::write_db(db, in);
}

TEST_F(RunReport, SeedsNeededForACloseCall) {
  // Δ pairs {.001, −.001, .003}: mean .001, s .002, so MDE(3) = 0.0619302 × 0.1
  // (fixture.h), and |Δ|/s = 0.5 needs 34 seeds (metrics/power_test.cpp).
  write_close_call(db_path_, {0.001, -0.001, 0.003});
  cmd_.format = "json";
  const nlohmann::json j = nlohmann::json::parse(run(cmd_));
  const auto& d = j["groups"][1]["delta"];
  EXPECT_NEAR(d["mean"].get<double>(), 0.001, 1e-12);
  EXPECT_NEAR(d["std"].get<double>(), 0.002, 1e-12);
  EXPECT_NEAR(d["power"]["mde"].get<double>(), 0.00619302029489, 1e-10);
  EXPECT_EQ(d["power"]["seeds_needed"], 34);
  cmd_.format = "";
  const std::string table = run(cmd_);
  EXPECT_NE(table.find("+0.0010 [\u22120.0040, +0.0060] n.s.  0.0062           34"), std::string::npos) << table;

  // Pairs {.01, −.01, .0005}: |Δ|/s = 0.0167 < MDE(10000)/s = 0.028.
  write_close_call(db_path_, {0.01, -0.01, 0.0005});
  const std::string far = run(cmd_);
  EXPECT_NE(far.find("  > 10000  "), std::string::npos) << far;
  cmd_.format = "json";
  const nlohmann::json k = nlohmann::json::parse(run(cmd_));
  EXPECT_TRUE(k["groups"][1]["delta"]["power"]["seeds_needed"].is_null());
  EXPECT_EQ(k["groups"][1]["delta"]["power"]["seeds_needed_status"], "above_cap");
}

TEST_F(RunReport, TableIsTheDefault) {
  EXPECT_EQ(run(cmd_), fixture::known_table());
}

TEST_F(RunReport, WritesFilesWhole) {
  cmd_.format = "html";
  cmd_.output = (dir_ / "out" / "report.html").string();
  EXPECT_EQ(run(cmd_), "");
  const std::string html = hcx::test::read_file(cmd_.output);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("id=\"chart-collapse\""), std::string::npos);
  EXPECT_FALSE(fs::exists(cmd_.output + ".tmp"));
}

TEST_F(RunReport, BadRequestsExitTwo) {
  ReportCommand bad = cmd_;
  bad.format = "xml";
  try {
    report_command(bad, std::cout);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "--format xml: expected table, md, csv, json or html");
    EXPECT_EQ(e.exit_code(), 2);
  }
  bad = cmd_;
  bad.db = (dir_ / "nope.db").string();
  try {
    report_command(bad, std::cout);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find("no results database here"), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(dir_ / "nope.db"));  // never created by a report
  bad = cmd_;
  bad.selection.where = {{"seed", "7"}};
  EXPECT_THROW(report_command(bad, std::cout), Error);  // nothing selected
}

}  // namespace
}  // namespace hcx::report
