// The JSON rendering: layout, nulls for figures that do not exist.
#include "hcx/report/json.h"

#include <gtest/gtest.h>

#include "report/fixture.h"

namespace hcx::report {
namespace {

TEST(ReportJson, LayoutAndNulls) {
  ReportInput in = fixture::known_input();
  in.runs[5].status = RunStatus::kFailed;
  in.runs[4].status = RunStatus::kFailed;  // hc keeps one seed: a mean without std
  const nlohmann::json j = to_json(compute_report(in, ReportOptions{}));
  EXPECT_EQ(j["sweep"], "known");
  EXPECT_EQ(j["metric"], "val/loss");
  EXPECT_EQ(j["baseline"]["value"], "pre_norm");
  EXPECT_EQ(j["definitions"]["train_ema_alpha"], 0.05);
  EXPECT_EQ(j["definitions"]["metric_ema_alpha"], 0.5);
  const auto& base = j["groups"][0];
  const auto& hc = j["groups"][1];
  EXPECT_TRUE(base["delta"].is_null());
  EXPECT_EQ(hc["n"], 1);
  EXPECT_TRUE(hc["val_loss_final"]["std"].is_null());
  EXPECT_DOUBLE_EQ(hc["val_loss_final"]["mean"].get<double>(), 1.9);
  EXPECT_EQ(hc["delta"]["n"], 1);
  EXPECT_TRUE(hc["delta"]["ci_low"].is_null());
  EXPECT_EQ(hc["delta"]["contains_zero"], true);
  ASSERT_EQ(hc["missing"].size(), 2u);
  EXPECT_EQ(hc["missing"][1]["seed"], "2");
  EXPECT_EQ(hc["missing"][1]["status"], "failed");
  EXPECT_EQ(hc["missing"][1]["run_id"], "hc-seed2");
  EXPECT_FALSE(j["footnotes"].empty());
  // One pair: no spread, so no MDE and no seed count.
  EXPECT_TRUE(hc["delta"]["power"]["mde"].is_null());
  EXPECT_TRUE(hc["delta"]["power"]["seeds_needed"].is_null());
  EXPECT_EQ(hc["delta"]["power"]["seeds_needed_status"], "not_applicable");
}

TEST(ReportJson, PowerOfTheDelta) {
  const nlohmann::json j = to_json(compute_report(fixture::known_input(), ReportOptions{}));
  const auto& p = j["groups"][1]["delta"]["power"];  // worked in fixture.h
  EXPECT_EQ(p["alpha"], 0.05);
  EXPECT_EQ(p["power"], 0.8);
  EXPECT_NEAR(p["mde"].get<double>(), 0.0619302029489, 1e-9);
  EXPECT_EQ(p["seeds_needed"], 3);
  EXPECT_EQ(p["seeds_needed_status"], "found");
  EXPECT_EQ(p["max_seeds"], 10000);
  EXPECT_FALSE(j["groups"][0]["delta"].contains("power"));  // the baseline has no Δ
}

}  // namespace
}  // namespace hcx::report
