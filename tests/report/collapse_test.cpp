// Collapse detection: each rule on a hand-made run, its boundary, the
// phrase it gives; a collapsed group marked in text and JSON and kept out of
// the ranking and its best/worst claims unless include_collapsed.
#include "hcx/report/collapse.h"

#include <algorithm>
#include <sstream>

#include <gtest/gtest.h>

#include "hcx/report/compute.h"
#include "hcx/report/json.h"
#include "hcx/report/table.h"
#include "hcx/report/text.h"
#include "report/fixture.h"
#include "report/tuned_fixture.h"

namespace hcx::report {
namespace {

RunData run(std::map<std::string, std::string> params, std::vector<double> train) {
  RunData r;
  r.id = "r";
  r.status = RunStatus::kCompleted;
  r.params = std::move(params);
  for (size_t i = 0; i < train.size(); ++i) {
    r.curves["train/loss"].steps.push_back(static_cast<int64_t>(i) + 1);
    r.curves["train/loss"].values.push_back(train[i]);
  }
  return r;
}

RunData with_grads(RunData r, std::vector<double> grads) {
  for (size_t k = 0; k < grads.size(); ++k) {
    r.layer_stats.push_back({100, static_cast<int64_t>(k), "grad_norm", grads[k]});
    r.layer_stats.push_back({50, static_cast<int64_t>(k), "grad_norm", 1.0});  // an earlier step: ignored
  }
  return r;
}

TEST(Collapse, RulesAndTheirPhrases) {
  const struct {
    const char* name;
    RunData run;
    const char* reason;  // "" = trained
  } cases[] = {
      {"at ln V", run({{"model.vocab_size", "64"}}, {4.17, 4.17}), "final train loss 4.1700 ≥ ln 64 = 4.1589"},
      {"just below ln V", run({{"model.vocab_size", "64"}}, {4.15, 4.15}), ""},
      {"no vocab size: rule 1 skipped", run({}, {9, 9}), ""},
      {"flat after warmup", run({{"train.warmup_steps", "2"}}, {9, 3, 3, 3}),
       "train loss 3.0000 at the end not below 3.0000 right after warmup (step 2)"},
      {"improves after warmup", run({{"train.warmup_steps", "2"}}, {9, 3, 2, 2}), ""},
      {"one step after warmup: rule 2 skipped", run({{"train.warmup_steps", "4"}}, {9, 3, 3, 3}), ""},
      {"vanishing lower-layer gradients", with_grads(run({}, {3, 2}), {4e-4, 0.1, 0.5}),
       "grad norm of sublayer 0 0.0004 < 0.001 × 0.5 of sublayer 2"},
      {"lower-layer gradient at the ratio", with_grads(run({}, {3, 2}), {5e-4, 0.1, 0.5}), ""},
      {"one sublayer: rule 3 skipped", with_grads(run({}, {3, 2}), {0.0}), ""},
  };
  for (const auto& c : cases) {
    const auto why = collapse_reason(c.run);
    EXPECT_EQ(why.value_or(""), c.reason) << c.name;
  }
}

TEST(Collapse, KnownFixtureHasNone) {
  const Report r = compute_report(fixture::known_input(), ReportOptions{});
  for (const auto& g : r.groups) EXPECT_FALSE(g.collapse) << g.label;
  EXPECT_EQ(r.ranking, (std::vector<size_t>{1, 0}));  // DHC×2 1.9 < Pre-Norm 2.0
}

TEST(Collapse, GroupMarkedInTextAndJsonAndNotRanked) {
  ReportOptions opt;
  opt.best_of.keys = {"train.lr"};
  const Report r = compute_report(fixture::tuned_input(), opt);
  ASSERT_EQ(r.groups[2].label, "Post-Norm");
  ASSERT_TRUE(r.groups[2].collapse);
  EXPECT_EQ(r.groups[2].collapse->runs.size(), 3u);
  EXPECT_EQ(r.groups[2].collapse->of, 3u);
  EXPECT_FALSE(r.groups[0].collapse);
  EXPECT_FALSE(r.groups[1].collapse);
  EXPECT_EQ(r.ranking, (std::vector<size_t>{1, 0}));

  const TextTable t = report_tables(r).front();
  EXPECT_EQ(t.rows[2][0].text, "Post-Norm (collapsed)");
  EXPECT_EQ(t.rows[2][0].tone, Tone::kBad);
  const auto notes = report_footnotes(r);
  const std::vector<std::string> tail(notes.end() - 3, notes.end());
  EXPECT_EQ(tail, (std::vector<std::string>{
                      "Post-Norm collapsed at lr=0.003: final train loss 4.1700 ≥ ln 64 = 4.1589 "
                      "(run post_norm-lr0.003-s0; 3 of 3 runs).",
                      "ranking by mean final val/loss (lowest first): DHC×2 1.7500 < Pre-Norm 2.1000; "
                      "best DHC×2, worst Pre-Norm.",
                      "not ranked (collapsed; --include-collapsed ranks them): Post-Norm."}));
  std::ostringstream out;
  render_terminal(r, out, /*color=*/false);
  EXPECT_NE(out.str().find("Post-Norm (collapsed)  "), std::string::npos) << out.str();

  const nlohmann::json j = to_json(r);
  EXPECT_EQ(j["ranking"], nlohmann::json::array({"DHC×2", "Pre-Norm"}));
  EXPECT_EQ(j["include_collapsed"], false);
  EXPECT_TRUE(j["groups"][0]["collapsed"].is_null());
  EXPECT_EQ(j["groups"][2]["collapsed"]["of"], 3);
  EXPECT_EQ(j["groups"][2]["collapsed"]["runs"][0]["id"], "post_norm-lr0.003-s0");
  EXPECT_EQ(j["groups"][2]["collapsed"]["runs"][0]["reason"], "final train loss 4.1700 ≥ ln 64 = 4.1589");

  std::ostringstream csv;
  render_csv(r, csv);
  EXPECT_NE(csv.str().find(",post_norm-lr0.003-s0:final train loss 4.1700 ≥ ln 64 = 4.1589;post_norm-lr0.003-s1:"),
            std::string::npos)
      << csv.str();
}

TEST(Collapse, IncludeCollapsedRanksThem) {
  ReportOptions opt;
  opt.best_of.keys = {"train.lr"};
  opt.include_collapsed = true;
  const Report r = compute_report(fixture::tuned_input(), opt);
  EXPECT_EQ(r.ranking, (std::vector<size_t>{1, 0, 2}));
  const auto notes = report_footnotes(r);
  EXPECT_EQ(notes[notes.size() - 2],
            "ranking by mean final val/loss (lowest first): DHC×2 1.7500 < Pre-Norm 2.1000 < Post-Norm 4.2000; "
            "best DHC×2, worst Post-Norm.");
  EXPECT_EQ(notes.back(), "collapsed groups are ranked (--include-collapsed).");
}

TEST(Collapse, WithoutBestOfEveryLrIsAGroup) {
  const Report r = compute_report(fixture::tuned_input(), ReportOptions{});
  ASSERT_EQ(r.groups.size(), 6u);
  size_t collapsed = 0;
  for (const auto& g : r.groups) collapsed += g.collapse.has_value();
  EXPECT_EQ(collapsed, 2u);  // post_norm at both learning rates
  EXPECT_EQ(r.ranking.size(), 4u);
  const auto notes = report_footnotes(r);
  EXPECT_NE(std::find_if(notes.begin(), notes.end(),
                         [](const std::string& n) { return n.rfind("not ranked (collapsed", 0) == 0; }),
            notes.end());
}

}  // namespace
}  // namespace hcx::report
