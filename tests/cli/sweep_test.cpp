// hcx sweep end to end with the real trainer: a grid of tiny runs trained
// with --jobs 2, nothing trained twice, the dry-run plan, a sweep stopped by
// SIGTERM that a second invocation completes with the same numbers as an
// uninterrupted one, a diverging run and a SIGKILLed child that do not stop
// the others.
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"

namespace hcx::test {
namespace {

// Four tiny runs: Pre-Norm and DHC x2, two seeds each. Flushes every step and
// checkpoints every 5, so a stop lands between checkpoints.
std::string tiny_sweep(int steps, const std::string& extra = "") {
  return R"({
  // four tiny runs
  "name": "tiny",
  "base": {
    "model": {"d_model": 16, "n_layers": 2, "n_heads": 2, "seq_len": 24, "vocab_size": 64},
    "data": {"synthetic_tokens": 20000},
    "train": {"steps": )" +
         std::to_string(steps) + R"(, "batch_size": 4, "lr": 3e-3, "warmup_steps": 4, "log_every": 1,
              "checkpoint_every": 5},
    "eval": {"every": 10, "batches": 2, "tasks": [{"name": "syn_recall", "kind": "synthetic", "limit": 8}]}
  },
  "grid": {"residual": [{"kind": "pre_norm"}, {"kind": "hc", "n": 2}]},
  "seeds": 2)" + extra +
         "\n}";
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> run_ids(const std::string& db) {
  SQLite::Database d(db, SQLite::OPEN_READONLY);
  SQLite::Statement q(d, "SELECT run_id FROM sweep_runs ORDER BY position");
  std::vector<std::string> ids;
  while (q.executeStep()) ids.push_back(q.getColumn(0).getString());
  return ids;
}

// query1() while the sweep may still be creating the database: "" until it can answer.
std::string query_when_ready(const std::string& db, const std::string& sql) {
  try {
    return fs::exists(db) ? query1(db, sql) : "";
  } catch (const std::exception&) {
    return "";
  }
}

// Starts of a run in its log (one per attempt).
size_t starts(const TempDir& dir, const std::string& id) {
  return count(read_file(dir / ("r/logs/" + id + ".log")), "hcx sweep: start");
}

TEST(SweepCommand, TrainsFourRunsWithTwoJobsThenNothingTwice) {
  TempDir dir;
  write_file(dir / "tiny.json", tiny_sweep(20));
  const Result r = run_hcx("sweep tiny.json --jobs 2 --db r/hcx.db", dir.path.string());
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string db = dir / "r/hcx.db";
  EXPECT_EQ(query1(db, "SELECT count(*) FROM runs WHERE status = 'completed' AND step = 20"), "4");
  EXPECT_EQ(query1(db, "SELECT name FROM sweeps"), "tiny");
  EXPECT_EQ(query1(db, "SELECT count(*) FROM sweep_runs"), "4");
  EXPECT_EQ(query1(db, "SELECT count(DISTINCT device) FROM runs"), "1");
  EXPECT_NE(r.output.find("sweep tiny: 4 runs, 4 completed"), std::string::npos) << r.output;
  const auto ids = run_ids(db);
  ASSERT_EQ(ids.size(), 4u);
  for (const auto& id : ids) EXPECT_EQ(starts(dir, id), 1u) << id;

  const Result again = run_hcx("sweep tiny.json --jobs 2 --db r/hcx.db", dir.path.string());
  EXPECT_EQ(again.code, 0) << again.output;
  EXPECT_NE(again.output.find("4 runs: 0 new, 0 to resume, 4 done"), std::string::npos) << again.output;
  for (const auto& id : ids) EXPECT_EQ(starts(dir, id), 1u) << id;  // nothing trained twice
}

TEST(SweepCommand, DryRunShowsThePlanAndWritesNothing) {
  TempDir dir;
  write_file(dir / "tiny.json", tiny_sweep(10));
  Result r = run_hcx("sweep tiny.json --dry-run --db r/hcx.db", dir.path.string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_FALSE(fs::exists(dir / "r/hcx.db"));
  EXPECT_NE(r.output.find("sweep tiny (tiny.json): 4 runs"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("#  id                state  variant   keys"), std::string::npos) << r.output;
  EXPECT_EQ(count(r.output, "  new    "), 4u) << r.output;
  EXPECT_NE(r.output.find("DHC×2     residual.kind=hc residual.n=2 seed=1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("4 runs: 4 new, 0 resume, 0 done, 0 failed"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("to train: 4 runs, 3.84K tokens, "), std::string::npos) << r.output;  // and FLOPs

  ASSERT_EQ(run_hcx("sweep tiny.json --db r/hcx.db -s seeds=1", dir.path.string()).code, 0);
  r = run_hcx("sweep tiny.json --dry-run --format json --db r/hcx.db", dir.path.string());
  ASSERT_EQ(r.code, 0) << r.output;
  const auto plan = nlohmann::json::parse(r.output);
  EXPECT_EQ(plan["totals"]["done"], 2);
  EXPECT_EQ(plan["totals"]["new"], 2);
  EXPECT_EQ(plan["runs"][1]["state"], "new");
  EXPECT_EQ(plan["runs"][1]["point"]["seed"], 1);
}

TEST(SweepCommand, InvalidGridExitsTwoNamingFilePointAndKey) {
  TempDir dir;
  write_file(dir / "bad.json", R"({"grid": {"v": [{"residual.kind": "hc", "residual.n": [2, 9]}],
                                          "train.lr": [1e-3]}, "base": {"modle.d_model": 8}})");
  const Result r = run_hcx("sweep bad.json --db r/hcx.db", dir.path.string());
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("bad.json: base: modle: unknown key (did you mean 'model'?)"), std::string::npos)
      << r.output;
  EXPECT_FALSE(fs::exists(dir / "r/hcx.db"));
  write_file(dir / "bad2.json", R"({"grid": {"residual.n": [2, 9]}, "base": {"residual.kind": "hc"}})");
  const Result r2 = run_hcx("sweep bad2.json --db r/hcx.db -s train.lr=1e-3,2e-3", dir.path.string());
  EXPECT_EQ(r2.code, 2);
  EXPECT_NE(r2.output.find("bad2.json: point 3 (residual.n=9 train.lr=0.001): residual.n: expected an expansion rate "
                           "from 1 to 8, got 9"),
            std::string::npos)
      << r2.output;
  EXPECT_EQ(count(r2.output, "residual.n: expected"), 2u) << r2.output;
  EXPECT_FALSE(fs::exists(dir / "r/hcx.db"));
  const Result devices = run_hcx("sweep bad2.json --devices tpu -s residual.n=2 --db r/hcx.db", dir.path.string());
  EXPECT_EQ(devices.code, 2);
  EXPECT_NE(devices.output.find("--devices: expected auto, cpu, cuda or cuda:0,1,..., got \"tpu\""), std::string::npos)
      << devices.output;
  EXPECT_FALSE(fs::exists(dir / "r/hcx.db"));
}

TEST(SweepCommand, StoppedSweepResumesToTheNumbersOfAnUninterruptedOne) {
  TempDir dir;
  write_file(dir / "tiny.json", tiny_sweep(60));
  const std::string db = dir / "r/hcx.db";
  const pid_t pid = spawn_hcx({"sweep", "tiny.json", "--jobs", "2", "--db", "r/hcx.db"}, dir / "first.log",
                              dir.path.string());
  // Stop it once a run is between checkpoints, well before the end.
  ASSERT_TRUE(wait_until(
      [&] {
        const std::string n =
            query_when_ready(db, "SELECT count(*) FROM runs WHERE status = 'running' AND step BETWEEN 7 AND 40");
        return !n.empty() && n != "0";
      },
      120))
      << read_file(dir / "first.log");
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit(pid), 128 + SIGTERM) << read_file(dir / "first.log");
  EXPECT_NE(query1(db, "SELECT count(*) FROM runs WHERE status = 'interrupted'"), "0");
  EXPECT_EQ(query1(db, "SELECT count(*) FROM runs WHERE status IN ('running', 'failed')"), "0");

  const Result second = run_hcx("sweep tiny.json --jobs 2 --db r/hcx.db", dir.path.string());
  ASSERT_EQ(second.code, 0) << second.output;
  const Result reference = run_hcx("sweep tiny.json --jobs 2 --db ref/hcx.db", dir.path.string());
  ASSERT_EQ(reference.code, 0) << reference.output;
  const auto ids = run_ids(db);
  ASSERT_EQ(ids, run_ids(dir / "ref/hcx.db"));
  for (const auto& id : ids) {
    const std::string curve = "SELECT step, value FROM metrics WHERE name = 'train/loss' AND run_id = '" + id +
                              "' ORDER BY step";
    const auto resumed = query_curve(db, curve);
    EXPECT_EQ(resumed.size(), 60u) << id;
    EXPECT_EQ(resumed, query_curve(dir / "ref/hcx.db", curve)) << id;
    const std::string final_val = "SELECT final_val_loss FROM runs WHERE id = '" + id + "'";
    EXPECT_EQ(query1(db, final_val), query1(dir / "ref/hcx.db", final_val)) << id;
  }
}

TEST(SweepCommand, ADivergingRunAndAKilledRunDoNotStopTheOthers) {
  TempDir dir;
  // A fifth run diverges at step 5 (the trainer's NaN injection).
  write_file(dir / "tiny.json",
             tiny_sweep(60, R"(,
  "include": [{"residual.kind": "post_norm", "seed": 0, "train.inject_nan_at": 5}])"));
  const std::string db = dir / "r/hcx.db";
  const pid_t pid = spawn_hcx({"sweep", "tiny.json", "--jobs", "2", "--db", "r/hcx.db"}, dir / "sweep.log",
                              dir.path.string());
  // SIGKILL the first run that is well under way, as the OOM killer would.
  std::string victim;
  ASSERT_TRUE(wait_until(
      [&] {
        victim = query_when_ready(db,
                        "SELECT id FROM runs WHERE status = 'running' AND step >= 3 AND pid IS NOT NULL AND id NOT IN "
                        "(SELECT run_id FROM run_params WHERE key = 'train.inject_nan_at' AND value = '5') LIMIT 1");
        return !victim.empty();
      },
      120));
  ::kill(std::stoi(query1(db, "SELECT pid FROM runs WHERE id = '" + victim + "'")), SIGKILL);
  EXPECT_EQ(wait_exit(pid), 1) << read_file(dir / "sweep.log");
  EXPECT_EQ(query1(db, "SELECT count(*) FROM runs WHERE status = 'completed'"), "3");
  EXPECT_EQ(query1(db, "SELECT count(*) FROM runs WHERE status = 'diverged'"), "1");
  EXPECT_EQ(query1(db, "SELECT status FROM runs WHERE id = '" + victim + "'"), "failed");
  EXPECT_NE(query1(db, "SELECT error FROM runs WHERE id = '" + victim + "'").find("killed by signal 9"),
            std::string::npos);

  // Failed runs wait for --retry-failed, which finishes the killed one.
  Result r = run_hcx("sweep tiny.json --jobs 2 --db r/hcx.db", dir.path.string());
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_EQ(starts(dir, victim), 1u);
  r = run_hcx("sweep tiny.json --jobs 2 --db r/hcx.db --retry-failed", dir.path.string());
  EXPECT_EQ(r.code, 1) << r.output;  // the diverging run diverges again
  EXPECT_EQ(query1(db, "SELECT status || ' ' || step FROM runs WHERE id = '" + victim + "'"), "completed 60");
  EXPECT_EQ(starts(dir, victim), 2u);
}

TEST(SweepCommand, HelpHasExamples) {
  const Result r = run_hcx("sweep --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.output.find("hcx sweep experiments/quickstart.json --dry-run"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--retry-failed"), std::string::npos);
}

}  // namespace
}  // namespace hcx::test
