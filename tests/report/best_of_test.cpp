// --best-of: each group at its own best value, chosen and reported on the
// same or on held-out seeds, with the chosen values in every rendering and
// the errors for bad keys, seeds and emptied groups.
#include "hcx/report/best_of.h"

#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "hcx/error.h"
#include "hcx/report/compute.h"
#include "hcx/report/json.h"
#include "hcx/report/table.h"
#include "hcx/report/text.h"
#include "report/tuned_fixture.h"

namespace hcx::report {
namespace {

ReportOptions best_of(std::vector<std::string> select = {}, std::vector<std::string> report = {}) {
  ReportOptions o;
  o.best_of.keys = {"train.lr"};
  o.best_of.select_seeds = std::move(select);
  o.best_of.report_seeds = std::move(report);
  return o;
}

const GroupResult& group(const Report& r, const std::string& kind) {
  for (const auto& g : r.groups) {
    if (g.key.at("residual.kind") == kind) return g;
  }
  throw std::runtime_error("no group " + kind);
}

// Row `i` (1 = first group) of render_csv's output as header -> cell.
std::map<std::string, std::string> csv_row(const Report& r, size_t i) {
  std::ostringstream out;
  render_csv(r, out);
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(out.str());
  for (std::string line; std::getline(in, line);) {
    rows.emplace_back(1);
    for (char c : line) {  // the cells of these fixtures hold no quoted commas
      if (c == ',') rows.back().emplace_back(); else if (c != '"') rows.back().back() += c;
    }
  }
  std::map<std::string, std::string> row;
  for (size_t k = 0; k < rows.at(0).size(); ++k) row[rows[0][k]] = rows.at(i).at(k);
  return row;
}

std::string text(const Report& r) {
  std::ostringstream out;
  render_terminal(r, out, /*color=*/false);
  return out.str();
}

TEST(BestOf, EachGroupAtItsOwnLowestMeanValLoss) {
  const Report r = compute_report(fixture::tuned_input(), best_of());
  EXPECT_EQ(r.group_by, std::vector<std::string>{"residual.kind"});
  EXPECT_EQ(r.pair_keys, std::vector<std::string>{"seed"});  // train.lr is tuned, not paired
  ASSERT_EQ(r.groups.size(), 3u);
  const GroupResult& pn = group(r, "pre_norm");
  const GroupResult& hc = group(r, "hc");
  EXPECT_EQ(pn.best_of->chosen.at("train.lr"), "0.001");
  EXPECT_EQ(hc.best_of->chosen.at("train.lr"), "0.003");
  EXPECT_EQ(group(r, "post_norm").best_of->chosen.at("train.lr"), "0.003");
  ASSERT_EQ(hc.best_of->candidates.size(), 2u);
  EXPECT_EQ(hc.best_of->candidates[0].values, std::vector<std::string>{"0.001"});
  EXPECT_EQ(hc.best_of->candidates[0].n, 3u);
  EXPECT_NEAR(hc.best_of->candidates[0].mean_val, 5.6 / 3, 1e-12);
  EXPECT_NEAR(hc.best_of->candidates[1].mean_val, 1.75, 1e-12);
  EXPECT_EQ(pn.runs.size(), 3u);
  EXPECT_NEAR(pn.final_val.mean, 2.1, 1e-12);
  EXPECT_NEAR(hc.final_val.mean, 1.75, 1e-12);
  ASSERT_TRUE(hc.delta);
  EXPECT_EQ(hc.delta->n, 3u);
  EXPECT_NEAR(hc.delta->mean, -0.35, 1e-12);
  EXPECT_NEAR(hc.delta->std, std::sqrt(0.0675), 1e-12);
}

TEST(BestOf, SelectOnOneSeedReportOnTheOthers) {
  const Report r = compute_report(fixture::tuned_input(), best_of({"0"}, {"1", "2"}));
  EXPECT_EQ(r.seeds, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(r.all_seeds, (std::vector<std::string>{"0", "1", "2"}));
  const GroupResult& pn = group(r, "pre_norm");
  const GroupResult& hc = group(r, "hc");
  EXPECT_EQ(pn.best_of->chosen.at("train.lr"), "0.001");
  EXPECT_EQ(hc.best_of->chosen.at("train.lr"), "0.001");  // 1.9 < 1.95 on seed 0
  EXPECT_EQ(hc.best_of->candidates[1].n, 1u);
  EXPECT_NEAR(hc.best_of->candidates[1].mean_val, 1.95, 1e-12);
  ASSERT_EQ(hc.runs.size(), 2u);
  EXPECT_EQ(hc.runs[0].id, "hc-lr0.001-s1");
  EXPECT_TRUE(hc.missing.empty());  // seed 0 is held out, not missing
  EXPECT_NEAR(pn.final_val.mean, 2.15, 1e-12);
  EXPECT_NEAR(hc.final_val.mean, 1.85, 1e-12);
  EXPECT_NEAR(hc.delta->mean, -0.3, 1e-12);
  EXPECT_EQ(hc.delta->n, 2u);
}

TEST(BestOf, FootnotesSayWhichSeedsChoseAndWhichReport) {
  const auto same = report_footnotes(compute_report(fixture::tuned_input(), best_of()));
  EXPECT_NE(std::find(same.begin(), same.end(),
                      "best-of train.lr: each group at its own value with the lowest mean final val/loss on seeds "
                      "0, 1, 2; figures from seeds 0, 1, 2."),
            same.end());
  EXPECT_NE(std::find(same.begin(), same.end(),
                      "best-of: seeds 0, 1, 2 both chose the value and are reported, so the chosen figures are "
                      "biased low (use --select-seeds and --report-seeds to hold seeds out)."),
            same.end());
  const auto split = report_footnotes(compute_report(fixture::tuned_input(), best_of({"0"}, {"1", "2"})));
  EXPECT_NE(std::find(split.begin(), split.end(),
                      "best-of: chosen and reported on disjoint seeds, so the figures are not biased by the choice."),
            split.end());
}

TEST(BestOf, ChosenValueInTableAndJson) {
  const Report r = compute_report(fixture::tuned_input(), best_of());
  const TextTable t = report_tables(r).front();
  EXPECT_EQ(t.header[1], "best train.lr");
  EXPECT_EQ(t.rows[0][0].text, "Pre-Norm");
  EXPECT_EQ(t.rows[0][1].text, "0.001");
  EXPECT_EQ(t.rows[1][1].text, "0.003");
  const std::string out = text(r);
  EXPECT_NE(out.find("best train.lr"), std::string::npos) << out;
  const nlohmann::json j = to_json(r);
  EXPECT_EQ(j["best_of"]["keys"], nlohmann::json::array({"train.lr"}));
  EXPECT_EQ(j["best_of"]["select_seeds"], nlohmann::json::array({"0", "1", "2"}));
  EXPECT_EQ(j["groups"][1]["best_of"]["chosen"]["train.lr"], "0.003");
  EXPECT_EQ(j["groups"][1]["best_of"]["candidates"][1]["n"], 3);
  EXPECT_DOUBLE_EQ(j["groups"][1]["best_of"]["candidates"][1]["val_loss_mean"].get<double>(), 1.75);
  EXPECT_TRUE(to_json(compute_report(fixture::tuned_input(), ReportOptions{}))["best_of"].is_null());
  EXPECT_EQ(csv_row(r, 1)["best_train.lr"], "0.001");
  EXPECT_EQ(csv_row(r, 2)["best_train.lr"], "0.003");
}

TEST(BestOf, Errors) {
  const struct {
    ReportOptions opt;
    const char* error;
  } cases[] = {
      {[] { auto o = best_of(); o.best_of.keys = {"train.lrr"}; return o; }(),
       "--best-of train.lrr: unknown key (did you mean 'train.lr'?)"},
      {best_of({"7"}), "--select-seeds 7: no selected run has seed 7 (seeds: 0, 1, 2)"},
      {best_of({}, {"0", "9"}), "--report-seeds 9: no selected run has seed 9 (seeds: 0, 1, 2)"},
      {[] { ReportOptions o; o.best_of.select_seeds = {"0"}; return o; }(), "--select-seeds needs --best-of KEY"},
      {[] { auto o = best_of(); o.group_by = {"residual.kind", "train.lr"}; return o; }(),
       "--best-of train.lr: also a --group-by key; a key is either grouped or tuned"},
  };
  for (const auto& c : cases) {
    try {
      compute_report(fixture::tuned_input(), c.opt);
      ADD_FAILURE() << "no error, expected: " << c.error;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), c.error);
      EXPECT_EQ(e.exit_code(), 2);
    }
  }
}

TEST(BestOf, GroupWithNoRunLeftIsAnError) {
  ReportInput in = fixture::tuned_input();
  // hc at lr 0.003 keeps only seed 0, which now wins the choice (1.5 < 1.9) and is held out.
  std::vector<RunData> kept;
  for (auto& r : in.runs) {
    if (r.id == "hc-lr0.003-s1" || r.id == "hc-lr0.003-s2") continue;
    if (r.id == "hc-lr0.003-s0") r.curves["val/loss"].values.back() = 1.5;
    kept.push_back(std::move(r));
  }
  in.runs = std::move(kept);
  try {
    compute_report(in, best_of({"0"}, {"1", "2"}));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "DHC×2: no run left at its best 0.003 on --report-seeds 1, 2");
  }
  for (auto& r : in.runs) {
    if (r.params.at("residual.kind") == "hc") r.status = RunStatus::kFailed;
  }
  try {
    compute_report(in, best_of({"0"}));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "DHC×2: no completed run with a val/loss on seeds 0 to choose --best-of from");
  }
}

}  // namespace
}  // namespace hcx::report
