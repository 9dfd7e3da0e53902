// hcx status end to end: counts, run rows, JSON, --sweep, shards merged first.
#include <regex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "hcx/store/runs.h"
#include "hcx/store/shards.h"
#include "hcx/store/sqlite_sink.h"

namespace hcx::test {
namespace {

// A sweep "ablation" of three runs: one completed, one running, one pending;
// plus a run outside any sweep that failed.
struct CliStatus : ::testing::Test {
  TempDir dir;
  std::string db = dir / "results/hcx.db";
  void SetUp() override {
    store::Db d = store::open_db(db);
    config::RunConfig cfg;
    cfg.train.steps = 100;
    const int64_t sweep = store::register_sweep(d, "ablation", "{}", "0.1.0");
    store::register_runs(d, sweep, {{"r-done", cfg}, {"r-live", cfg}, {"r-wait", cfg}});
    for (const char* run : {"r-done", "r-live"}) {
      store::start_run(d, run, {"cuda:1", "node2", 4321});
      store::SqliteSink sink(d, run);
      const int steps = run == std::string("r-done") ? 100 : 40;
      for (int step = 10; step <= steps; step += 10) {
        sink.scalar(step, "train/loss", 6.0 - step / 40.0);
        sink.progress(step, step * 512);
        sink.flush();
      }
    }
    store::finish_run(d, "r-done", RunStatus::kCompleted);
    store::upsert_run(d, "loose", {});
    store::start_run(d, "loose", {"cpu"});
    store::finish_run(d, "loose", RunStatus::kFailed, "data.path: no such file\nsecond line");
  }
};

TEST_F(CliStatus, TableOfASweep) {
  const Result r = run_hcx("status --sweep ablation --db " + db);
  ASSERT_EQ(r.code, 0) << r.output;
  const std::regex expected(
      "sweep ablation: 3 runs: 1 running, 1 pending, 1 completed\n"
      "\n"
      "run     status     step     heartbeat  device  loss\n"
      "------  ---------  -------  ---------  ------  ------\n"
      "r-done  completed  100/100  [0-9]s         cuda:1  3\\.5000\n"
      "r-live  running    40/100   [0-9]s         cuda:1  5\\.0000\n"
      "r-wait  pending    0/100    -          -       -\n");
  EXPECT_TRUE(std::regex_match(r.output, expected)) << r.output;
}

TEST_F(CliStatus, AllRunsWithErrors) {
  const Result r = run_hcx("status --db " + db);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output.substr(0, r.output.find('\n')), "4 runs: 1 running, 1 pending, 1 completed, 1 failed");
  EXPECT_NE(r.output.find("error\n"), std::string::npos) << r.output;  // the error column appears
  EXPECT_NE(r.output.find("data.path: no such file second line"), std::string::npos) << r.output;
}

TEST_F(CliStatus, Json) {
  const Result r = run_hcx("status --sweep ablation --format json --db " + db);
  ASSERT_EQ(r.code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["sweep"], "ablation");
  EXPECT_EQ(j["counts"], nlohmann::json({{"completed", 1}, {"pending", 1}, {"running", 1}}));
  ASSERT_EQ(j["runs"].size(), 3u);
  const auto& live = j["runs"][1];
  EXPECT_EQ(live["id"], "r-live");
  EXPECT_EQ(live["step"], 40);
  EXPECT_EQ(live["total_steps"], 100);
  EXPECT_EQ(live["tokens"], 40 * 512);
  EXPECT_EQ(live["pid"], 4321);
  EXPECT_EQ(live["host"], "node2");
  EXPECT_DOUBLE_EQ(live["last_loss"].get<double>(), 5.0);
  EXPECT_LT(live["heartbeat_age_s"].get<double>(), 60.0);
  EXPECT_TRUE(j["runs"][2]["heartbeat_age_s"].is_null());
  EXPECT_TRUE(j["runs"][2]["last_loss"].is_null());
}

TEST_F(CliStatus, UnknownSweepSuggestsTheNearest) {
  const Result r = run_hcx("status --sweep ablaton --db " + db);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("unknown sweep 'ablaton' (did you mean 'ablation'?)"), std::string::npos) << r.output;
}

TEST_F(CliStatus, MissingDatabaseIsNamedAndNotCreated) {
  const Result r = run_hcx("status --db " + (dir / "none/hcx.db").string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find((dir / "none/hcx.db").string() + ": no such database file"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "none"));
}

TEST_F(CliStatus, ShardsNextToTheDatabaseAreMergedFirst) {
  {
    store::Db shard = store::open_db(store::shard_path(dir / "results", "r-wait"));
    config::RunConfig cfg;
    cfg.train.steps = 100;
    store::upsert_run(shard, "r-wait", cfg);
    store::start_run(shard, "r-wait", {"cuda:3", "gpu7", 99});
    store::SqliteSink sink(shard, "r-wait");
    sink.scalar(20, "train/loss", 4.5);
    sink.progress(20, 20 * 512);
  }
  const Result r = run_hcx("status --sweep ablation --db " + db);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("sweep ablation: 3 runs: 2 running, 1 completed\n"), std::string::npos) << r.output;
  EXPECT_TRUE(std::regex_search(r.output, std::regex("r-wait  running    20/100   [0-9]s +cuda:3  4\\.5000")))
      << r.output;
  EXPECT_EQ(query1(db, "SELECT count(*) FROM metrics WHERE run_id = 'r-wait'"), "1");
}

}  // namespace
}  // namespace hcx::test
