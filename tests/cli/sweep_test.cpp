// hcx sweep end to end with the real trainer: a grid of tiny runs trained
// with --jobs 2, nothing trained twice (not even in another sweep), the
// dry-run plan, a sweep stopped by SIGTERM that a second invocation completes
// with the same numbers as an uninterrupted one, a diverging run, a run with
// bad input and a SIGKILLed child that do not stop the others and are recorded
// with their reasons, and running rows of dead processes taken over while
// those of live ones are left alone.
#include <algorithm>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "exec/process_util.h"
#include "hcx/grid/expand.h"
#include "hcx/grid/experiment.h"
#include "hcx/grid/identity.h"
#include "hcx/store/db.h"
#include "hcx/store/runs.h"
#include "hcx/version.h"

namespace hcx::test {
namespace {

// The base of the tiny runs: flushes every step and checkpoints every 5, so a
// stop lands between checkpoints.
std::string tiny_base(int steps) {
  return R"({
    "model": {"d_model": 16, "n_layers": 2, "n_heads": 2, "seq_len": 24, "vocab_size": 64},
    "data": {"synthetic_tokens": 20000},
    "train": {"steps": )" +
         std::to_string(steps) + R"(, "batch_size": 4, "lr": 3e-3, "warmup_steps": 4, "log_every": 1,
              "checkpoint_every": 5},
    "eval": {"every": 10, "batches": 2, "tasks": [{"name": "syn_recall", "kind": "synthetic", "limit": 8}]}
  })";
}

// Four tiny runs: Pre-Norm and DHC x2, two seeds each.
std::string tiny_sweep(int steps, const std::string& extra = "") {
  return R"({
  // four tiny runs
  "name": "tiny",
  "base": )" + tiny_base(steps) + R"(,
  "grid": {"residual": [{"kind": "pre_norm"}, {"kind": "hc", "n": 2}]},
  "seeds": 2)" + extra +
         "\n}";
}

// Run ids of sweep `sweep` in grid order.
std::vector<std::string> run_ids(const std::string& db, const std::string& sweep = "tiny") {
  SQLite::Database d(db, SQLite::OPEN_READONLY);
  SQLite::Statement q(d, "SELECT run_id FROM sweep_runs JOIN sweeps ON sweeps.id = sweep_id WHERE name = ? "
                         "ORDER BY position");
  q.bind(1, sweep);
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
  return count_of(read_file(dir / ("r/logs/" + id + ".log")), "hcx sweep: start");
}

TEST(SweepCommand, TrainsFourRunsWithTwoJobsThenNothingTwice) {
  TempDir dir;
  write_file(dir / "tiny.json", tiny_sweep(20));
  const Result r = run_hcx("sweep tiny.json --jobs 2 --db r/hcx.db", dir.path().string());
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

  const Result again = run_hcx("sweep tiny.json --jobs 2 --db r/hcx.db", dir.path().string());
  EXPECT_EQ(again.code, 0) << again.output;
  EXPECT_NE(again.output.find("4 runs: 0 new, 0 to resume, 4 done"), std::string::npos) << again.output;
  for (const auto& id : ids) EXPECT_EQ(starts(dir, id), 1u) << id;  // nothing trained twice
}

TEST(SweepCommand, TheSameRunInAnotherSweepIsNotTrainedAgain) {
  TempDir dir;
  write_file(dir / "tiny.json", tiny_sweep(10));
  ASSERT_EQ(run_hcx("sweep tiny.json --jobs 2 --db r/hcx.db", dir.path().string()).code, 0);
  const std::string db = dir / "r/hcx.db";
  const auto tiny = run_ids(db);
  // Pre-Norm seeds 1 and 2 under another name: seed 1 is a run of "tiny".
  write_file(dir / "other.json", R"({"name": "other", "base": )" + tiny_base(10) + R"(,
    "grid": {"residual.kind": ["pre_norm"], "seed": [1, 2]}})");
  const Result r = run_hcx("sweep other.json --jobs 2 --db r/hcx.db", dir.path().string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("2 runs: 1 new, 0 to resume, 1 done"), std::string::npos) << r.output;
  const auto other = run_ids(db, "other");
  ASSERT_EQ(other.size(), 2u);
  EXPECT_NE(std::find(tiny.begin(), tiny.end(), other[0]), tiny.end()) << "seed 1 is not a run of tiny";
  EXPECT_EQ(std::find(tiny.begin(), tiny.end(), other[1]), tiny.end());
  EXPECT_EQ(starts(dir, other[0]), 1u);  // trained by "tiny" only
  EXPECT_EQ(starts(dir, other[1]), 1u);
  EXPECT_EQ(query1(db, "SELECT count(*) || ' ' || sum(status = 'completed') FROM runs"), "5 5");
}

TEST(SweepCommand, DryRunShowsThePlanAndWritesNothing) {
  TempDir dir;
  write_file(dir / "tiny.json", tiny_sweep(10));
  Result r = run_hcx("sweep tiny.json --dry-run --db r/hcx.db", dir.path().string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_FALSE(fs::exists(dir / "r/hcx.db"));
  EXPECT_NE(r.output.find("sweep tiny (tiny.json): 4 runs"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("#  id                state  variant   keys"), std::string::npos) << r.output;
  EXPECT_EQ(count_of(r.output, "  new    "), 4u) << r.output;
  EXPECT_NE(r.output.find("DHC×2     residual.kind=hc residual.n=2 seed=1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("4 runs: 4 new, 0 resume, 0 done, 0 failed"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("to train: 4 runs, 3.84K tokens, "), std::string::npos) << r.output;  // and FLOPs

  ASSERT_EQ(run_hcx("sweep tiny.json --db r/hcx.db -s seeds=1", dir.path().string()).code, 0);
  r = run_hcx("sweep tiny.json --dry-run --format json --db r/hcx.db", dir.path().string());
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
  const Result r = run_hcx("sweep bad.json --db r/hcx.db", dir.path().string());
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("bad.json: base: modle: unknown key (did you mean 'model'?)"), std::string::npos)
      << r.output;
  EXPECT_FALSE(fs::exists(dir / "r/hcx.db"));
  write_file(dir / "bad2.json", R"({"grid": {"residual.n": [2, 9]}, "base": {"residual.kind": "hc"}})");
  const Result r2 = run_hcx("sweep bad2.json --db r/hcx.db -s train.lr=1e-3,2e-3", dir.path().string());
  EXPECT_EQ(r2.code, 2);
  EXPECT_NE(r2.output.find("bad2.json: point 3 (residual.n=9 train.lr=0.001): residual.n: expected an expansion rate "
                           "from 1 to 8, got 9"),
            std::string::npos)
      << r2.output;
  EXPECT_EQ(count_of(r2.output, "residual.n: expected"), 2u) << r2.output;
  EXPECT_FALSE(fs::exists(dir / "r/hcx.db"));
  const Result devices = run_hcx("sweep bad2.json --devices tpu -s residual.n=2 --db r/hcx.db", dir.path().string());
  EXPECT_EQ(devices.code, 2);
  EXPECT_NE(devices.output.find("--devices: expected auto, cpu, cuda or cuda:0,1,..., got \"tpu\""), std::string::npos)
      << devices.output;
  const Result executor = run_hcx("sweep bad2.json --executor ssh -s residual.n=2 --db r/hcx.db", dir.path().string());
  EXPECT_EQ(executor.code, 2);
  EXPECT_NE(executor.output.find("--executor: ssh not in {local,slurm}"), std::string::npos) << executor.output;
  EXPECT_FALSE(fs::exists(dir / "r/hcx.db"));
}

TEST(SweepCommand, StoppedSweepResumesToTheNumbersOfAnUninterruptedOne) {
  TempDir dir;
  write_file(dir / "tiny.json", tiny_sweep(60));
  const std::string db = dir / "r/hcx.db";
  const pid_t pid = spawn_hcx({"sweep", "tiny.json", "--jobs", "2", "--db", "r/hcx.db"}, dir / "first.log",
                              dir.path().string());
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

  const Result second = run_hcx("sweep tiny.json --jobs 2 --db r/hcx.db", dir.path().string());
  ASSERT_EQ(second.code, 0) << second.output;
  const Result reference = run_hcx("sweep tiny.json --jobs 2 --db ref/hcx.db", dir.path().string());
  ASSERT_EQ(reference.code, 0) << reference.output;
  const auto ids = run_ids(db);
  ASSERT_EQ(ids, run_ids(dir / "ref/hcx.db"));
  size_t resumed_runs = 0;
  for (const auto& id : ids)
    resumed_runs += read_file(dir / ("r/logs/" + id + ".log")).find("resumed from the checkpoint at step") !=
                    std::string::npos;
  EXPECT_GE(resumed_runs, 1u);  // the run stopped between steps 7 and 40 at least
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

TEST(SweepCommand, StaleRunningRowsAreTakenOverLiveOnesAreLeftAlone) {
  TempDir dir;
  write_file(dir / "two.json", R"({"name": "two", "base": )" + tiny_base(60) + R"(, "grid": {"seed": [0, 1]}})");
  const std::string db = dir / "r/hcx.db";
  const auto ex = grid::expand(grid::load_experiment(dir / "two.json"));
  ASSERT_EQ(ex.runs.size(), 2u);
  const std::string dead_id = ex.runs[0].id, live_id = ex.runs[1].id;
  {
    store::Db d = store::open_db(db);
    for (const auto& run : ex.runs) store::upsert_run(d, run.id, grid::normalized(run.config));
  }
  // Run 0: an `hcx run` SIGKILLed after its first checkpoint leaves a 'running' row of a dead process.
  const pid_t crashed = spawn_hcx({"run", "--run-id", dead_id, "--db", "r/hcx.db"}, dir / "crashed.log",
                                  dir.path().string());
  ASSERT_TRUE(wait_until([&] { return query1(db, "SELECT step >= 6 FROM runs WHERE id = '" + dead_id + "'") == "1"; },
                         120))
      << read_file(dir / "crashed.log");
  ::kill(crashed, SIGKILL);
  EXPECT_EQ(wait_exit(crashed), 128 + SIGKILL);
  ASSERT_EQ(query1(db, "SELECT status FROM runs WHERE id = '" + dead_id + "'"), "running");
  // Run 1: held by a live hcx process (another sweep, as /proc sees it).
  const pid_t live = exec::test::start_sleeper("hcx-other-sweep", 120);
  {
    store::Db d = store::open_db(db);
    store::StartInfo info;
    info.device = "cpu";
    info.pid = live;
    store::start_run(d, live_id, info);
  }

  Result r = run_hcx("sweep two.json --dry-run --format json --db r/hcx.db", dir.path().string());
  ASSERT_EQ(r.code, 0) << r.output;
  const auto plan = nlohmann::json::parse(r.output);
  EXPECT_EQ(plan["runs"][0]["state"], "resume");
  EXPECT_GE(plan["runs"][0]["steps_done"].get<int>(), 6);
  EXPECT_EQ(plan["runs"][1]["state"], "running");

  r = run_hcx("sweep two.json --db r/hcx.db", dir.path().string());
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("2 runs: 0 new, 1 to resume, 0 done, 1 running elsewhere"), std::string::npos) << r.output;
  EXPECT_EQ(query1(db, "SELECT status || ' ' || step FROM runs WHERE id = '" + dead_id + "'"), "completed 60");
  const std::string log = read_file(dir / ("r/logs/" + dead_id + ".log"));
  EXPECT_NE(log.find("resumed from the checkpoint at step "), std::string::npos) << log;
  EXPECT_EQ(query1(db, "SELECT status || ' ' || pid FROM runs WHERE id = '" + live_id + "'"),
            "running " + std::to_string(live));
  EXPECT_FALSE(fs::exists(dir / ("r/logs/" + live_id + ".log")));
  exec::test::stop_sleeper(live);
}

TEST(SweepCommand, FailedRunsAreRecordedWithTheirReasonAndDoNotStopTheOthers) {
  TempDir dir;
  // A fifth run diverges at step 5 (the trainer's NaN injection); a sixth has
  // a validation split shorter than one sequence, which only `hcx run` finds.
  write_file(dir / "tiny.json",
             tiny_sweep(60, R"(,
  "include": [{"residual.kind": "post_norm", "seed": 0, "train.inject_nan_at": 5},
              {"residual.kind": "post_norm", "seed": 0, "data.val_fraction": 0.001}])"));
  const std::string db = dir / "r/hcx.db";
  const pid_t pid = spawn_hcx({"sweep", "tiny.json", "--jobs", "2", "--db", "r/hcx.db"}, dir / "sweep.log",
                              dir.path().string());
  // SIGKILL the first grid run that is well under way, as the OOM killer would.
  std::string victim;
  ASSERT_TRUE(wait_until(
      [&] {
        victim = query_when_ready(db,
                        "SELECT id FROM runs WHERE status = 'running' AND step >= 3 AND pid IS NOT NULL AND id NOT IN "
                        "(SELECT run_id FROM run_params WHERE key = 'residual.kind' AND value = 'post_norm') LIMIT 1");
        return !victim.empty();
      },
      120));
  ::kill(std::stoi(query1(db, "SELECT pid FROM runs WHERE id = '" + victim + "'")), SIGKILL);
  EXPECT_EQ(wait_exit(pid), 1) << read_file(dir / "sweep.log");
  const std::string diverging =
      query1(db, "SELECT run_id FROM run_params WHERE key = 'train.inject_nan_at' AND value = '5'");
  const std::string bad =
      query1(db, "SELECT run_id FROM run_params WHERE key = 'data.val_fraction' AND CAST(value AS REAL) < 0.01");
  ASSERT_FALSE(diverging.empty() || bad.empty());
  auto row = [&](const std::string& id, const std::string& column) {
    return query1(db, "SELECT " + column + " FROM runs WHERE id = '" + id + "'");
  };
  EXPECT_EQ(query1(db, "SELECT count(*) FROM runs WHERE status = 'completed'"), "3");
  // Recorded by the child itself, with its reason.
  EXPECT_EQ(row(diverging, "status"), "diverged");
  EXPECT_NE(row(diverging, "error").find("non-finite loss at step 5"), std::string::npos) << row(diverging, "error");
  EXPECT_EQ(row(bad, "status"), "failed");
  EXPECT_NE(row(bad, "error").find("the validation split (data.val_fraction 0.001) has"), std::string::npos)
      << row(bad, "error");
  // Recorded by the sweep: how the child ended, then the tail of its log.
  const std::string killed = row(victim, "error");
  EXPECT_EQ(row(victim, "status"), "failed");
  EXPECT_EQ(killed.rfind("hcx run killed by signal 9", 0), 0u) << killed;
  EXPECT_NE(killed.find("\n"), std::string::npos) << killed;
  EXPECT_NE(killed.find("run " + victim + ": "), std::string::npos) << killed;  // hcx run's first log line

  // Failed runs wait for --retry-failed, which trains every one of them again.
  Result r = run_hcx("sweep tiny.json --jobs 2 --db r/hcx.db", dir.path().string());
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("3 done, 3 failed (skipped; --retry-failed)"), std::string::npos) << r.output;
  const auto ids = run_ids(db);
  ASSERT_EQ(ids.size(), 6u);
  for (const auto& id : ids) EXPECT_EQ(starts(dir, id), 1u) << id;
  r = run_hcx("sweep tiny.json --jobs 2 --db r/hcx.db --retry-failed", dir.path().string());
  EXPECT_EQ(r.code, 1) << r.output;  // the diverging run diverges again, the bad one fails again
  EXPECT_NE(r.output.find("3 to retry, 3 done"), std::string::npos) << r.output;
  EXPECT_EQ(row(victim, "status || ' ' || step"), "completed 60");
  EXPECT_EQ(row(diverging, "status"), "diverged");
  EXPECT_EQ(row(bad, "status"), "failed");
  for (const auto& id : ids) {
    const bool failed = id == victim || id == diverging || id == bad;
    EXPECT_EQ(starts(dir, id), failed ? 2u : 1u) << id;
  }
}

// A run that hangs (here: SIGSTOPped, so it stops heartbeating) is killed
// after --heartbeat-timeout and recorded as failed, while the others finish.
TEST(SweepCommand, HungRunIsKilledAfterTheHeartbeatTimeoutAndTheOthersGoOn) {
  TempDir dir;
  write_file(dir / "tiny.json", tiny_sweep(60));
  const std::string db = dir / "r/hcx.db";
  const pid_t pid = spawn_hcx({"sweep", "tiny.json", "--jobs", "2", "--db", "r/hcx.db", "--heartbeat-timeout", "3"},
                              dir / "sweep.log", dir.path().string());
  std::string victim;
  ASSERT_TRUE(wait_until(
      [&] {
        victim = query_when_ready(db, "SELECT id FROM runs WHERE status = 'running' AND step >= 3 LIMIT 1");
        return !victim.empty();
      },
      120));
  ::kill(std::stoi(query1(db, "SELECT pid FROM runs WHERE id = '" + victim + "'")), SIGSTOP);
  EXPECT_EQ(wait_exit(pid), 1) << read_file(dir / "sweep.log");
  EXPECT_EQ(query1(db, "SELECT count(*) FROM runs WHERE status = 'completed'"), "3");
  EXPECT_EQ(query1(db, "SELECT status FROM runs WHERE id = '" + victim + "'"), "failed");
  const std::string error = query1(db, "SELECT error FROM runs WHERE id = '" + victim + "'");
  EXPECT_EQ(error.rfind("hcx run killed by the sweep: no heartbeat for ", 0), 0u) << error;
}

// Every file a run reads must be there before anything is planned or written:
// exit 2 naming the experiment, the first run, the key and the file.
TEST(SweepCommand, MissingInputFilesExitTwoNamingKeyFileAndRun) {
  TempDir dir;
  write_file(dir / "files.json", R"({"name": "files",
    "base": {"model": {"d_model": 16, "n_layers": 1, "n_heads": 2, "seq_len": 16, "vocab_size": 256},
             "data": {"source": "text", "path": "corpus.txt"}, "train": {"steps": 2, "batch_size": 2},
             "eval": {"tasks": [{"name": "hs", "kind": "choice", "path": "hs.jsonl"}]}},
    "grid": {"residual.kind": ["pre_norm", "post_norm"]}})");
  // Expanded as `hcx sweep files.json` sees it from `dir`: paths relative to the file.
  const grid::Expansion ex = grid::expand(grid::parse_experiment(read_file(dir / "files.json"), "files.json"));
  ASSERT_EQ(ex.runs.size(), 2u);
  const std::string first = "files.json: run " + ex.runs[0].id + " (Pre-Norm): ";
  for (const char* mode : {"--dry-run", "--dry-run --format json", ""}) {
    const Result r = run_hcx(std::string("sweep files.json --db r/hcx.db ") + mode, dir.path().string());
    EXPECT_EQ(r.code, 2) << mode << r.output;
    EXPECT_NE(r.output.find(first + "data.path: corpus.txt: file not found (and 1 more run)\n"), std::string::npos)
        << mode << r.output;
    EXPECT_NE(r.output.find(first + "eval.tasks[0].path: hs.jsonl: file not found (and 1 more run)"),
              std::string::npos)
        << mode << r.output;
    EXPECT_FALSE(fs::exists(dir / "r/hcx.db")) << mode;
  }
  write_file(dir / "corpus.txt", std::string(4000, 'a'));
  Result r = run_hcx("sweep files.json --db r/hcx.db", dir.path().string());
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_EQ(r.output.find("data.path"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(first + "eval.tasks[0].path: hs.jsonl: file not found (and 1 more run)"), std::string::npos)
      << r.output;
  fs::create_directories(dir / "hs.jsonl");
  r = run_hcx("sweep files.json --db r/hcx.db --dry-run", dir.path().string());
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find(first + "eval.tasks[0].path: hs.jsonl: is a directory, not a file"), std::string::npos)
      << r.output;
  fs::remove(dir / "hs.jsonl");
  write_file(dir / "hs.jsonl", R"({"ctx": "a", "endings": ["a", "b"], "label": 0})" "\n");
  r = run_hcx("sweep files.json --db r/hcx.db --dry-run", dir.path().string());
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("2 runs: 2 new"), std::string::npos) << r.output;
}

// Completed runs that another build or other data trained are stale: the plan
// and the sweep say so, skip them, and --retrain-stale trains exactly those
// again from step 0, recording this build.
TEST(SweepCommand, StaleRunsAreListedAndRetrainedOnlyWithRetrainStale) {
  TempDir dir;
  write_file(dir / "tiny.json", tiny_sweep(10));
  ASSERT_EQ(run_hcx("sweep tiny.json --jobs 2 --db r/hcx.db", dir.path().string()).code, 0);
  const std::string db = dir / "r/hcx.db";
  const auto ids = run_ids(db);
  ASSERT_EQ(ids.size(), 4u);
  for (const auto& id : ids) {
    EXPECT_EQ(query1(db, "SELECT code_version || ' ' || data_id FROM runs WHERE id = '" + id + "'"),
              std::string(hcx::kVersion) + " synthetic");
  }
  {
    SQLite::Database d(db, SQLite::OPEN_READWRITE);
    d.exec("UPDATE runs SET code_version = '0.0.1', code_commit = 'abcdef0123456789abcdef0123456789abcdef01' "
           "WHERE id = '" + ids[0] + "'");
    d.exec("UPDATE runs SET data_id = '10:00000000000000ff' WHERE id = '" + ids[2] + "'");
  }
  const std::string listing = "2 completed runs are stale (trained by another build or on other data) and skipped; "
                              "--retrain-stale trains them again from step 0\n"
                              "  #1 " + ids[0] + ": trained by 0.0.1 abcdef0\n"
                              "  #3 " + ids[2] + ": data changed\n";
  Result r = run_hcx("sweep tiny.json --dry-run --db r/hcx.db", dir.path().string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(count_of(r.output, "  stale  "), 2u) << r.output;
  EXPECT_NE(r.output.find(listing), std::string::npos) << r.output;
  r = run_hcx("sweep tiny.json --dry-run --format json --db r/hcx.db", dir.path().string());
  const auto plan = nlohmann::json::parse(r.output);
  EXPECT_EQ(plan["runs"][0]["stale"], "trained by 0.0.1 abcdef0");
  EXPECT_EQ(plan["totals"]["stale"], 2);

  r = run_hcx("sweep tiny.json --jobs 2 --db r/hcx.db", dir.path().string());
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("4 done, 2 stale (skipped; --retrain-stale)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("stale: #3 " + ids[2] + ": data changed"), std::string::npos) << r.output;
  for (const auto& id : ids) EXPECT_EQ(starts(dir, id), 1u) << id;

  r = run_hcx("sweep tiny.json --jobs 2 --db r/hcx.db --retrain-stale", dir.path().string());
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("2 done, 2 stale to retrain from step 0"), std::string::npos) << r.output;
  EXPECT_EQ(starts(dir, ids[0]), 2u);
  EXPECT_EQ(starts(dir, ids[1]), 1u);
  EXPECT_EQ(starts(dir, ids[2]), 2u);
  EXPECT_EQ(starts(dir, ids[3]), 1u);
  for (const auto& id : {ids[0], ids[2]}) {
    EXPECT_EQ(read_file(dir / ("r/logs/" + id + ".log")).find("resumed from the checkpoint"), std::string::npos) << id;
    EXPECT_EQ(query1(db, "SELECT status || ' ' || step || ' ' || code_version || ' ' || data_id FROM runs "
                         "WHERE id = '" + id + "'"),
              "completed 10 " + std::string(hcx::kVersion) + " synthetic");
    EXPECT_EQ(query1(db, "SELECT count(*) FROM metrics WHERE name = 'train/loss' AND run_id = '" + id + "'"), "10");
  }
  r = run_hcx("sweep tiny.json --dry-run --db r/hcx.db", dir.path().string());
  EXPECT_EQ(r.output.find("stale"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("4 runs: 0 new, 0 resume, 4 done, 0 failed\n"), std::string::npos) << r.output;

  const Result slurm = run_hcx("sweep tiny.json --db r/hcx.db --retrain-stale --executor slurm", dir.path().string());
  EXPECT_EQ(slurm.code, 2) << slurm.output;
  EXPECT_NE(slurm.output.find("--retrain-stale: not supported with --executor slurm"), std::string::npos)
      << slurm.output;
}

TEST(SweepCommand, HelpHasExamples) {
  const Result r = run_hcx("sweep --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.output.find("hcx sweep experiments/quickstart.json --dry-run"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--retry-failed"), std::string::npos);
  EXPECT_NE(r.output.find("--retrain-stale"), std::string::npos);
}

}  // namespace
}  // namespace hcx::test
