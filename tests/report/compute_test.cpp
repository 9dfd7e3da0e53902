// compute_report on the known sweep: every figure against its worked answer
// (fixture.h), then grouping, pairing, baselines and missing seeds.
#include "hcx/report/compute.h"

#include <cmath>

#include <gtest/gtest.h>

#include "hcx/error.h"
#include "report/fixture.h"

namespace hcx::report {
namespace {

void expect_summary(const metrics::Summary& s, int64_t n, double mean, double std, const char* what) {
  EXPECT_EQ(s.n, n) << what;
  EXPECT_NEAR(s.mean, mean, 1e-9) << what;
  if (std::isnan(std)) {
    EXPECT_TRUE(std::isnan(s.std)) << what;
  } else {
    EXPECT_NEAR(s.std, std, 1e-9) << what;
  }
}

TEST(ComputeReport, KnownSweepFigures) {
  const Report r = compute_report(fixture::known_input(), ReportOptions{});
  EXPECT_EQ(r.sweep, "known");
  EXPECT_EQ(r.group_by, std::vector<std::string>{"residual.kind"});
  EXPECT_EQ(r.pair_keys, std::vector<std::string>{"seed"});
  EXPECT_EQ(r.seeds, (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(r.downstream_keys, (std::vector<std::string>{"hellaswag/acc_norm", "piqa/acc"}));
  EXPECT_EQ(r.spike_rule, "> mean + 6σ of the previous 50 values");
  EXPECT_TRUE(r.notes.empty());
  ASSERT_EQ(r.groups.size(), 2u);

  const GroupResult& b = r.groups[0];
  EXPECT_EQ(b.label, "Pre-Norm");
  EXPECT_TRUE(b.is_baseline);
  EXPECT_EQ(b.baseline_group, 0u);
  EXPECT_EQ(b.runs.size(), 3u);
  EXPECT_TRUE(b.missing.empty());
  EXPECT_EQ(b.runs[1].unit, "seed=1");
  expect_summary(b.final_metric, 3, 2.0, 0.1, "pre_norm final val (headline)");
  expect_summary(b.best_metric, 3, 2.0, 0.1, "pre_norm best val");
  expect_summary(b.final_val, 3, 2.0, 0.1, "pre_norm final val");
  expect_summary(b.final_train, 3, 3.0025, 0.0, "pre_norm final train (EMA)");
  expect_summary(b.best_train, 3, 2.95, 0.0, "pre_norm best train (EMA)");
  EXPECT_FALSE(b.delta);
  ASSERT_TRUE(b.speedup);
  EXPECT_NEAR(*b.speedup->group.speedup, 1.0, 1e-12);
  expect_summary(b.loss_spikes, 3, 1.0, 1.0, "pre_norm loss spikes (summary)");
  expect_summary(b.grad_norm_spikes, 3, 1.0 / 3, std::sqrt(1.0 / 3), "pre_norm grad spikes (rows)");
  expect_summary(b.downstream.at("piqa/acc"), 3, 0.62, 0.02, "pre_norm piqa");
  EXPECT_EQ(b.downstream.count("hellaswag/acc_norm"), 0u);
  expect_summary(b.tokens_per_s, 3, 1100, 100, "pre_norm tok/s");
  expect_summary(b.params, 3, 1000, 0, "pre_norm params");
  EXPECT_EQ(b.sample_run, 0u);

  const GroupResult& h = r.groups[1];
  EXPECT_EQ(h.label, "DHC×2");
  EXPECT_FALSE(h.is_baseline);
  EXPECT_EQ(h.baseline_group, 0u);
  expect_summary(h.final_metric, 3, 1.9, 0.08, "hc final val");
  expect_summary(h.best_val, 3, 1.9, 0.08, "hc best val");
  expect_summary(h.final_train, 3, 2.905, 0.0, "hc final train");
  expect_summary(h.best_train, 3, 2.9, 0.0, "hc best train");
  ASSERT_TRUE(h.delta);
  EXPECT_EQ(h.delta->n, 3);
  EXPECT_NEAR(h.delta->mean, -0.1, 1e-12);
  EXPECT_NEAR(h.delta->std, 0.02, 1e-12);
  EXPECT_NEAR(h.delta->ci_low, -0.1496827, 1e-6);
  EXPECT_NEAR(h.delta->ci_high, -0.0503173, 1e-6);
  EXPECT_FALSE(h.delta->contains_zero());
  ASSERT_TRUE(h.speedup);
  EXPECT_NEAR(h.speedup->group.target, 2.5, 1e-12);
  EXPECT_NEAR(h.speedup->group.baseline_tokens, 6400, 1e-9);
  EXPECT_NEAR(*h.speedup->group.variant_tokens, 4480, 1e-9);
  EXPECT_NEAR(*h.speedup->group.speedup, 10.0 / 7.0, 1e-12);
  EXPECT_DOUBLE_EQ(h.speedup->group.alpha, 0.5);
  ASSERT_EQ(h.speedup->per_pair.size(), 3u);
  EXPECT_EQ(h.speedup->per_pair[1].first, "seed=1");
  EXPECT_NEAR(*h.speedup->per_pair[0].second, 6400.0 / 4480.0, 1e-9);
  EXPECT_NEAR(*h.speedup->per_pair[1].second, 6400.0 / 4416.0, 1e-9);
  EXPECT_NEAR(*h.speedup->per_pair[2].second, 6400.0 / 4544.0, 1e-9);
  expect_summary(h.loss_spikes, 3, 0, 0, "hc loss spikes");
  expect_summary(h.grad_norm_spikes, 3, 0, 0, "hc grad spikes");
  expect_summary(h.downstream.at("piqa/acc"), 3, 0.66, 0.01, "hc piqa");
  expect_summary(h.downstream.at("hellaswag/acc_norm"), 3, 0.32, 0.02, "hc hellaswag");
  expect_summary(h.tokens_per_s, 3, 800, 0, "hc tok/s");
  expect_summary(h.params, 3, 1100, 0, "hc params");
  EXPECT_EQ(h.sample_run, 3u);
}

TEST(ComputeReport, MissingSeedsAreShownNotAveragedAway) {
  ReportInput in = fixture::known_input();
  in.runs[5].status = RunStatus::kDiverged;  // hc seed 2
  in.runs.erase(in.runs.begin() + 1);  // pre_norm seed 1 never ran
  const Report r = compute_report(in, ReportOptions{});
  const GroupResult& b = r.groups[0];
  const GroupResult& h = r.groups[1];
  ASSERT_EQ(b.missing.size(), 1u);
  EXPECT_EQ(b.missing[0].seed, "1");
  EXPECT_EQ(b.missing[0].status, "absent");
  ASSERT_EQ(h.missing.size(), 1u);
  EXPECT_EQ(h.missing[0].seed, "2");
  EXPECT_EQ(h.missing[0].status, "diverged");
  EXPECT_EQ(h.missing[0].run_id, "hc-seed2");
  expect_summary(h.final_val, 2, 1.94, std::sqrt(2 * 0.04 * 0.04), "hc final val over seeds 0, 1");
  // Only seed 0 is in both groups: one pair, no interval.
  ASSERT_TRUE(h.delta);
  EXPECT_EQ(h.delta->n, 1);
  EXPECT_NEAR(h.delta->mean, -0.1, 1e-12);
  EXPECT_TRUE(h.delta->contains_zero());
}

TEST(ComputeReport, BaselinePerValueOfAnotherGroupingKey) {
  // Two learning rates: each hc group is compared with pre_norm at its own lr.
  ReportInput in = fixture::known_input();
  ReportInput more = fixture::known_input();
  for (auto& r : in.runs) r.params["train.lr"] = "0.001";
  for (auto& r : more.runs) {
    r.id += "-lr3";
    r.params["train.lr"] = "0.003";
    for (double& v : r.curves["val/loss"].values) v += r.params["residual.kind"] == "hc" ? 0.5 : 0.0;
    in.runs.push_back(r);
  }
  const Report r = compute_report(in, ReportOptions{});
  EXPECT_EQ(r.group_by, (std::vector<std::string>{"residual.kind", "train.lr"}));
  ASSERT_EQ(r.groups.size(), 4u);
  EXPECT_EQ(r.groups[0].label, "Pre-Norm lr=0.001");  // a crossed axis: named in every group
  EXPECT_EQ(r.groups[1].label, "Pre-Norm lr=0.003");
  EXPECT_EQ(r.groups[2].label, "DHC×2 lr=0.001");
  EXPECT_EQ(r.groups[3].label, "DHC×2 lr=0.003");
  EXPECT_EQ(r.groups[2].baseline_group, 0u);
  EXPECT_EQ(r.groups[3].baseline_group, 1u);
  EXPECT_NEAR(r.groups[2].delta->mean, -0.1, 1e-12);
  EXPECT_NEAR(r.groups[3].delta->mean, 0.4, 1e-12);
  EXPECT_FALSE(r.groups[3].speedup->group.speedup);  // never reaches pre_norm's final loss

  // Grouping by residual.kind only: lr becomes part of the pairing key.
  ReportOptions by_kind;
  by_kind.group_by = {"residual.kind"};
  const Report k = compute_report(in, by_kind);
  EXPECT_EQ(k.pair_keys, (std::vector<std::string>{"seed", "train.lr"}));
  ASSERT_EQ(k.groups.size(), 2u);
  EXPECT_EQ(k.groups[1].delta->n, 6);
  EXPECT_NEAR(k.groups[1].delta->mean, 0.15, 1e-12);
  EXPECT_EQ(k.groups[1].runs[4].unit, "seed=1, train.lr=0.003");
}

TEST(ComputeReport, LabelsShowOnlyKeysThatVaryWithTheFirst) {
  // The quickstart's shape: n and dynamic vary between hc groups only.
  ReportInput in = fixture::known_input();
  in.runs.resize(6);
  for (int i = 0; i < 3; ++i) in.runs[i].params["residual.dynamic"] = "true";
  ReportInput more = fixture::known_input();
  for (int i = 3; i < 6; ++i) {
    in.runs[i].params["residual.dynamic"] = "false";
    RunData r = more.runs[i];
    r.id += "-n4";
    r.params["residual.n"] = "4";
    r.params["residual.dynamic"] = "false";
    in.runs.push_back(r);
    r.id += "-dyn";
    r.params["residual.dynamic"] = "true";
    in.runs.push_back(r);
  }
  const Report r = compute_report(in, ReportOptions{});
  EXPECT_EQ(r.group_by, (std::vector<std::string>{"residual.kind", "residual.n", "residual.dynamic"}));
  std::vector<std::string> labels;
  for (const auto& g : r.groups) labels.push_back(g.label);
  EXPECT_EQ(labels, (std::vector<std::string>{"Pre-Norm", "SHC×2", "SHC×4", "DHC×4"}));
  EXPECT_EQ(r.groups[3].baseline_group, 0u);
}

TEST(ComputeReport, VariantNamesCarryTheOtherKeysWhereTheyAreUnusual) {
  // A Post-Norm with its own warmup beside variants at the usual one.
  ReportInput in = fixture::known_input();
  ReportInput more = fixture::known_input();
  for (auto& r : in.runs) r.params["train.warmup_steps"] = "50";
  for (int i = 3; i < 6; ++i) {
    RunData r = more.runs[i];
    r.id += "-post";
    r.params["residual.kind"] = "post_norm";
    r.params["train.warmup_steps"] = "200";
    in.runs.push_back(r);
  }
  const Report r = compute_report(in, ReportOptions{});
  EXPECT_EQ(r.group_by, (std::vector<std::string>{"residual.kind", "train.warmup_steps"}));
  std::vector<std::string> labels;
  for (const auto& g : r.groups) labels.push_back(g.label);
  EXPECT_EQ(labels, (std::vector<std::string>{"Pre-Norm", "DHC×2", "Post-Norm warmup_steps=200"}));
}

TEST(ComputeReport, HeadlineMetricAndBaselineChoice) {
  ReportOptions o;
  o.metric = "train/loss";
  o.baseline = {"residual.kind", "hc"};
  const Report r = compute_report(fixture::known_input(), o);
  EXPECT_EQ(r.groups[0].label, "DHC×2");
  const GroupResult& p = r.groups[1];
  EXPECT_NEAR(p.final_metric.mean, 3.0025, 1e-12);
  EXPECT_NEAR(p.delta->mean, 3.0025 - 2.905, 1e-12);
  EXPECT_DOUBLE_EQ(p.speedup->group.alpha, kTrainAlpha);
}

TEST(ComputeReport, NotesWhenNoBaselineMatches) {
  ReportOptions o;
  o.baseline = {"residual.kind", "mhc"};
  const Report r = compute_report(fixture::known_input(), o);
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_EQ(r.notes[0],
            "baseline residual.kind=mhc: no group matches, so there is no Δ or speed-up (choose one with --baseline)");
  EXPECT_FALSE(r.groups[1].delta);
  EXPECT_FALSE(r.groups[1].speedup);
}

TEST(ComputeReport, RejectsBadRequests) {
  EXPECT_THROW(compute_report(ReportInput{}, ReportOptions{}), Error);
  ReportOptions bad_key;
  bad_key.group_by = {"residual.knd"};
  try {
    compute_report(fixture::known_input(), bad_key);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "--group-by residual.knd: unknown key (did you mean 'residual.kind'?)");
    EXPECT_EQ(e.exit_code(), 2);
  }
  ReportOptions bad_metric;
  bad_metric.metric = "val/los";
  try {
    compute_report(fixture::known_input(), bad_metric);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "--metric val/los: no selected run recorded it (recorded: train/loss, val/loss)");
  }
}

}  // namespace
}  // namespace hcx::report
