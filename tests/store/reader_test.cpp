// Reading results back: sweeps, runs with params and summaries, curves, tables.
#include "hcx/store/reader.h"

#include <gtest/gtest.h>

#include "hcx/error.h"
#include "hcx/store/runs.h"
#include "hcx/store/sqlite_sink.h"
#include "test_util.h"

namespace hcx::store {
namespace {

using testing::TempDir;

struct ReaderTest : ::testing::Test {
  TempDir dir;
  Db db = open_db(dir / "hcx.db");
  void SetUp() override {
    const int64_t old_sweep = register_sweep(db, "old", "{}", "0.1.0");
    db.sql().exec("UPDATE sweeps SET created_at = '2020-01-01T00:00:00.000Z'");
    const int64_t sweep = register_sweep(db, "new", R"({"grid":{}})", "0.1.0");
    config::RunConfig hc;
    hc.residual.kind = "hc";
    register_runs(db, sweep, {{"r2", hc}, {"r1", {}}});
    register_runs(db, old_sweep, {{"r1", {}}});
    for (const char* run : {"r1", "r2"}) {
      SqliteSink sink(db, run);
      const double offset = run == std::string("r1") ? 0.0 : 1.0;
      for (int64_t step = 10; step <= 30; step += 10) {
        sink.scalar(step, "train/loss", offset + 4.0 - step / 10.0);
        sink.scalar(step, "train/lr", 1e-3);
        sink.eval(step, "copy", "acc", offset + step / 100.0);
        sink.layer_stat(step, 1, "cos/median", 0.5);
        sink.layer_stat(step, 0, "grad_norm", 2.0);
      }
      sink.scalar(30, "val/loss", offset + 1.5);
      sink.spike({"train/loss", 20, 9.0, 3.0, 1.0, 6.0});
      sink.matrix({10, 0, "attn", "hc", 1, 2, {1, 2}});
      sink.matrix({30, 0, "attn", "hc", 1, 2, {3, 4}});
      sink.summary("best_val_loss", offset + 1.5);
      sink.summary("spikes/train/loss/count", 1);
    }
  }
};

TEST_F(ReaderTest, SweepsLatestFirstWithRunCounts) {
  const auto sweeps = list_sweeps(db);
  ASSERT_EQ(sweeps.size(), 2u);
  EXPECT_EQ(sweeps[0].name, "new");
  EXPECT_EQ(sweeps[0].runs, 2);
  EXPECT_EQ(sweeps[0].spec_json, R"({"grid":{}})");
  EXPECT_EQ(sweeps[1].name, "old");
  EXPECT_EQ(sweeps[1].runs, 1);
  EXPECT_EQ(get_sweep(db, "old")->id, sweeps[1].id);
  EXPECT_EQ(get_sweep(db, "nope"), std::nullopt);
}

TEST_F(ReaderTest, RunsOfASweepInGridOrderWithParamsAndSummary) {
  const auto runs = list_runs(db, "new");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].id, "r2");
  EXPECT_EQ(runs[0].position, 0);
  EXPECT_EQ(runs[0].params.at("residual.kind"), "hc");
  EXPECT_EQ(runs[1].params.at("residual.kind"), "pre_norm");
  EXPECT_EQ(runs[0].params.size(), config::flatten({}).size());
  EXPECT_EQ(runs[0].best_val_loss, 2.5);
  EXPECT_EQ(runs[0].summary.at("spikes/train/loss/count"), 1.0);
  EXPECT_EQ(runs[0].status, RunStatus::kPending);
  EXPECT_EQ(runs[0].step, 0);  // no progress() was reported
  const auto all = list_runs(db);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, "r1");
  EXPECT_EQ(all[0].position, std::nullopt);
  EXPECT_EQ(all[1].params.at("residual.kind"), "hc");
  EXPECT_THROW(list_runs(db, "ghost"), Error);
  EXPECT_EQ(get_run(db, "r2")->params.at("residual.kind"), "hc");
  EXPECT_EQ(get_run(db, "ghost"), std::nullopt);
}

TEST_F(ReaderTest, CurvesOneRunAndManyRunsInOneQuery) {
  const Curve c = metric_curve(db, "r2", "train/loss");
  EXPECT_EQ(c.steps, (std::vector<int64_t>{10, 20, 30}));
  EXPECT_EQ(c.values, (std::vector<double>{4.0, 3.0, 2.0}));
  const auto curves = metric_curves(db, "train/loss", {"r1", "r2", "ghost"});
  ASSERT_EQ(curves.size(), 2u);
  EXPECT_EQ(curves.at("r1").values, (std::vector<double>{3.0, 2.0, 1.0}));
  EXPECT_EQ(curves.at("r2").values, c.values);
  EXPECT_EQ(metric_curves(db, "val/loss").at("r1").steps, (std::vector<int64_t>{30}));
  EXPECT_TRUE(metric_curves(db, "no/such").empty());
}

TEST_F(ReaderTest, RunIdsSortedAndMatchedByIdOrPrefix) {
  EXPECT_EQ(run_ids(db), (std::vector<std::string>{"r1", "r2"}));
  const std::vector<std::string> ids = {"3f2a9c01", "3f2a9c02", "3f2b0000", "ab"};
  EXPECT_EQ(match_run_id(ids, "3f2a9c01"), (std::vector<std::string>{"3f2a9c01"}));  // exact
  EXPECT_EQ(match_run_id(ids, "3f2b"), (std::vector<std::string>{"3f2b0000"}));      // unique prefix
  EXPECT_EQ(match_run_id(ids, "3f2a"), (std::vector<std::string>{"3f2a9c01", "3f2a9c02"}));
  EXPECT_TRUE(match_run_id(ids, "3f2").empty());  // shorter than kMinRunIdPrefix
  EXPECT_EQ(match_run_id(ids, "ab"), (std::vector<std::string>{"ab"}));  // a short id matches itself
  EXPECT_TRUE(match_run_id(ids, "ffff").empty());
}

TEST_F(ReaderTest, MetricNames) {
  const std::vector<std::string> names = {"train/loss", "train/lr", "val/loss"};
  EXPECT_EQ(metric_names(db, "r1"), names);
  EXPECT_EQ(metric_names(db), names);
  EXPECT_TRUE(metric_names(db, "ghost").empty());
}

TEST_F(ReaderTest, EvalsLayerStatsMatricesSpikes) {
  const auto evals = read_evals(db, {"r2"});
  ASSERT_EQ(evals.size(), 3u);
  EXPECT_EQ(evals[2].step, 30);
  EXPECT_DOUBLE_EQ(evals[2].value, 1.3);
  EXPECT_EQ(read_evals(db).size(), 6u);

  const auto stats = read_layer_stats(db, {"r1"});
  ASSERT_EQ(stats.size(), 6u);
  EXPECT_EQ(stats[0].layer, 0);
  EXPECT_EQ(stats[0].name, "grad_norm");
  EXPECT_EQ(read_layer_stats(db, {}, "cos/median").size(), 6u);

  const auto all = read_hc_matrices(db, {"r1"});
  ASSERT_EQ(all.size(), 2u);
  const auto last = read_hc_matrices(db, {}, /*last_step_only=*/true);
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last[0].step, 30);
  EXPECT_EQ(last[0].values, (std::vector<double>{3, 4}));
  EXPECT_EQ(last[1].run_id, "r2");

  const auto spikes = read_spikes(db, {"r1"});
  ASSERT_EQ(spikes.size(), 1u);
  EXPECT_EQ(spikes[0].step, 20);
  EXPECT_EQ(spikes[0].score, 6.0);
}

TEST_F(ReaderTest, WorksOnAReadOnlyConnection) {
  Db ro = open_db(dir / "hcx.db", OpenMode::kReadOnly);
  EXPECT_EQ(list_runs(ro, "new").size(), 2u);
  EXPECT_EQ(metric_curves(ro, "train/loss").size(), 2u);
}

}  // namespace
}  // namespace hcx::store
