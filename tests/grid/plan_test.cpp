// Sweep planning: states from the stored status, work left, and the dry-run
// renderings.
#include "hcx/grid/plan.h"

#include <map>

#include <gtest/gtest.h>

namespace hcx::grid {
namespace {

Expansion five_runs() {
  return expand(parse_experiment(
      R"({"name": "p", "base": {"train.steps": 10, "train.batch_size": 2, "model.seq_len": 8},
          "grid": {"v": [{"residual.kind": "pre_norm"}, {"residual.kind": "post_norm"},
                         {"residual.kind": "hc", "residual.n": [1, 2, 4]}]}})",
      "p.json"));
}

StatusLookup lookup_of(std::map<std::string, StoredRun> rows) {
  return [rows](const std::string& id) -> std::optional<StoredRun> {
    auto it = rows.find(id);
    if (it == rows.end()) return std::nullopt;
    return it->second;
  };
}

TEST(Plan, StatesFollowTheDatabase) {
  const Expansion ex = five_runs();
  ASSERT_EQ(ex.runs.size(), 5u);
  StoredRun running_dead{RunStatus::kRunning, 4, /*alive=*/false};
  StoredRun running_live{RunStatus::kRunning, 4, /*alive=*/true};
  const auto lookup = lookup_of({{ex.runs[0].id, {RunStatus::kCompleted, 10}},
                                 {ex.runs[1].id, {RunStatus::kInterrupted, 6}},
                                 {ex.runs[2].id, {RunStatus::kDiverged, 3}},
                                 {ex.runs[3].id, running_dead},
                                 {ex.runs[4].id, running_live}});
  const Plan plan = make_plan(ex, lookup, /*retry_failed=*/false);
  ASSERT_EQ(plan.runs.size(), 5u);
  EXPECT_EQ(plan.runs[0].action, PlanAction::kDone);
  EXPECT_EQ(plan.runs[1].action, PlanAction::kResume);
  EXPECT_EQ(plan.runs[1].steps_done, 6);
  EXPECT_EQ(plan.runs[2].action, PlanAction::kFailed);
  EXPECT_EQ(plan.runs[2].status, RunStatus::kDiverged);
  EXPECT_EQ(plan.runs[3].action, PlanAction::kResume);  // taken over
  EXPECT_EQ(plan.runs[4].action, PlanAction::kRunning);
  EXPECT_EQ(plan.to_train(), 2u);
  // Tokens: 10 steps x 2 x 8 = 160 per run; resumes train what is left.
  EXPECT_EQ(plan.tokens_total, 5 * 160);
  EXPECT_EQ(plan.tokens_left, 4 * 16 + 6 * 16);

  const Plan retry = make_plan(ex, lookup, /*retry_failed=*/true);
  EXPECT_EQ(retry.runs[2].action, PlanAction::kRetry);
  EXPECT_EQ(retry.runs[2].tokens_left, 160);
  EXPECT_EQ(retry.to_train(), 3u);
}

TEST(Plan, UnknownAndPendingRunsAreNew) {
  const Expansion ex = five_runs();
  const Plan plan = make_plan(ex, lookup_of({{ex.runs[0].id, {RunStatus::kPending, 0}}}), false,
                              [](const config::RunConfig&) { return 100.0; });
  EXPECT_EQ(plan.n_new, 5u);
  EXPECT_EQ(plan.tokens_left, 5 * 160);
  EXPECT_DOUBLE_EQ(plan.flops_left, 5 * 160 * 100.0);
}

TEST(Plan, DryRunTableListsEveryRunAndTotals) {
  const Expansion ex = five_runs();
  const Plan plan = make_plan(
      ex, lookup_of({{ex.runs[0].id, {RunStatus::kCompleted, 10}}, {ex.runs[1].id, {RunStatus::kInterrupted, 6}}}),
      false);
  const std::string text = render_plan(ex, plan, /*color=*/false);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_NE(text.find("sweep p (p.json): 5 runs\n"), std::string::npos) << text;
  EXPECT_NE(text.find("#  id                state   variant    keys                           steps  tokens\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("1  " + ex.runs[0].id + "  done    Pre-Norm   residual.kind=pre_norm            10     160\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("2  " + ex.runs[1].id + "  resume  Post-Norm  residual.kind=post_norm         6/10     160\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("5  " + ex.runs[4].id + "  new     DHC×4      residual.kind=hc residual.n=4     10     160\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("5 runs: 3 new, 1 resume, 1 done, 0 failed\n"), std::string::npos) << text;
  EXPECT_NE(text.find("to train: 4 runs, 544 tokens (whole sweep: 800 tokens)\n"), std::string::npos) << text;
  EXPECT_NE(render_plan(ex, plan, /*color=*/true).find("\x1b[32mdone"), std::string::npos);
}

TEST(Plan, JsonHasTheSameFacts) {
  const Expansion ex = five_runs();
  const Plan plan = make_plan(ex, lookup_of({{ex.runs[2].id, {RunStatus::kFailed, 1}}}), false);
  const config::Json j = plan_json(ex, plan);
  ASSERT_EQ(j["runs"].size(), 5u);
  EXPECT_EQ(j["runs"][2]["state"], "failed");
  EXPECT_EQ(j["runs"][2]["id"], ex.runs[2].id);
  EXPECT_EQ(j["runs"][3]["point"]["residual.n"], 2);
  EXPECT_EQ(j["totals"]["new"], 4);
  EXPECT_EQ(j["totals"]["tokens_left"], 4 * 160);
}

// Completed runs trained by another build or on other data are stale: listed
// with the reason, skipped, and trained again from step 0 only when asked.
TEST(Plan, StaleCompletedRunsAreListedAndRetrainedOnlyWhenAsked) {
  const Expansion ex = five_runs();
  const std::string sha = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d";
  const config::Provenance now{"0.2.0", sha, ""};
  auto done = [](config::Provenance trained) {
    StoredRun s{RunStatus::kCompleted, 10};
    s.trained = std::move(trained);
    return s;
  };
  const auto lookup = lookup_of({
      {ex.runs[0].id, done({"0.2.0", sha, "synthetic"})},                                   // current
      {ex.runs[1].id, done({"0.1.0", "abcdef0123456789abcdef0123456789abcdef01", "synthetic"})},  // old build
      {ex.runs[2].id, done({"0.2.0", sha, "10:0000000000000001"})},                         // other data
      {ex.runs[3].id, done({"0.1.0", "abcdef0123456789abcdef0123456789abcdef01-dirty", "x"})},  // both
      {ex.runs[4].id, done({})},  // trained before provenance was recorded: unknown, not stale
  });
  PlanOptions o;
  o.build = now;
  int hashed = 0;
  o.data_id = [&](const config::RunConfig&) {
    ++hashed;
    return std::string("synthetic");
  };
  const Plan plan = make_plan(ex, lookup, o);
  EXPECT_EQ(hashed, 4);  // not for the run that recorded no data_id
  EXPECT_EQ(plan.runs[0].stale, "");
  EXPECT_EQ(plan.runs[1].stale, "trained by 0.1.0 abcdef0");
  EXPECT_EQ(plan.runs[2].stale, "data changed");
  EXPECT_EQ(plan.runs[3].stale, "trained by 0.1.0 abcdef0-dirty, data changed");
  EXPECT_EQ(plan.runs[4].stale, "");
  for (const auto& p : plan.runs) EXPECT_EQ(p.action, PlanAction::kDone);
  EXPECT_EQ(plan.n_done, 5u);
  EXPECT_EQ(plan.n_stale, 3u);
  EXPECT_EQ(plan.to_train(), 0u);
  const std::string text = render_plan(ex, plan, /*color=*/false);
  EXPECT_NE(text.find("2  " + ex.runs[1].id + "  stale  "), std::string::npos) << text;
  EXPECT_NE(text.find("1  " + ex.runs[0].id + "  done   "), std::string::npos) << text;
  EXPECT_NE(text.find("3 completed runs are stale (trained by another build or on other data) and skipped; "
                      "--retrain-stale trains them again from step 0\n"
                      "  #2 " + ex.runs[1].id + ": trained by 0.1.0 abcdef0\n"
                      "  #3 " + ex.runs[2].id + ": data changed\n"
                      "  #4 " + ex.runs[3].id + ": trained by 0.1.0 abcdef0-dirty, data changed\n"),
            std::string::npos)
      << text;

  o.retrain_stale = true;
  const Plan retrain = make_plan(ex, lookup, o);
  EXPECT_EQ(retrain.runs[0].action, PlanAction::kDone);
  EXPECT_EQ(retrain.runs[1].action, PlanAction::kRetrain);
  EXPECT_EQ(retrain.runs[2].action, PlanAction::kRetrain);
  EXPECT_EQ(retrain.runs[3].action, PlanAction::kRetrain);
  EXPECT_EQ(retrain.runs[4].action, PlanAction::kDone);
  EXPECT_EQ(retrain.runs[1].steps_done, 0);       // from step 0
  EXPECT_EQ(retrain.runs[1].tokens_left, 160);
  EXPECT_EQ(retrain.n_done, 2u);
  EXPECT_EQ(retrain.n_retrain, 3u);
  EXPECT_EQ(retrain.n_stale, 3u);
  EXPECT_EQ(retrain.to_train(), 3u);
  const std::string rtext = render_plan(ex, retrain, false);
  EXPECT_NE(rtext.find("2  " + ex.runs[1].id + "  retrain  "), std::string::npos) << rtext;
  EXPECT_NE(rtext.find("5 runs: 0 new, 0 resume, 2 done, 0 failed, 3 retrain\n"), std::string::npos) << rtext;
  EXPECT_NE(rtext.find("3 completed runs are stale (trained by another build or on other data): "
                       "retrained from step 0 (--retrain-stale)\n"),
            std::string::npos)
      << rtext;
  const config::Json j = plan_json(ex, retrain);
  EXPECT_EQ(j["runs"][1]["state"], "retrain");
  EXPECT_EQ(j["runs"][1]["stale"], "trained by 0.1.0 abcdef0");
  EXPECT_EQ(j["runs"][0]["stale"], "");
  EXPECT_EQ(j["totals"]["stale"], 3);
  EXPECT_EQ(j["totals"]["retrain"], 3);

  // Without provenance options (the old make_plan), nothing is stale.
  EXPECT_EQ(make_plan(ex, lookup, false).n_stale, 0u);
}

TEST(HumanCount, Suffixes) {
  EXPECT_EQ(human_count(950), "950");
  EXPECT_EQ(human_count(1234), "1.23K");
  EXPECT_EQ(human_count(61440), "61.4K");
  EXPECT_EQ(human_count(3.2e9), "3.20G");
  EXPECT_EQ(human_count(4.5e17), "450P");
}

}  // namespace
}  // namespace hcx::grid
