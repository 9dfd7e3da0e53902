// The run lifecycle: sweeps, runs, params, claim/heartbeat/finish, summaries
// and the status rows executors read.
#include "hcx/store/runs.h"

#include <sqlite3.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "hcx/error.h"
#include "test_util.h"

namespace hcx::store {
namespace {

using testing::count;
using testing::TempDir;

std::string text(const Db& db, const std::string& sql) {
  SQLite::Statement st(db.sql(), sql);
  if (!st.executeStep() || st.getColumn(0).isNull()) return "NULL";
  return st.getColumn(0).getString();
}

config::RunConfig cfg_with_steps(int64_t steps, double lr = 1e-3) {
  config::RunConfig c;
  c.train.steps = steps;
  c.train.lr = lr;
  return c;
}

struct RunsTest : ::testing::Test {
  TempDir dir;
  Db db = open_db(dir / "hcx.db");
};

TEST_F(RunsTest, SameSweepNameIsTheSameSweepWithTheLatestSpec) {
  const int64_t a = register_sweep(db, "quick", R"({"grid":1})", "0.1.0");
  const std::string created = text(db, "SELECT created_at FROM sweeps");
  const int64_t b = register_sweep(db, "quick", R"({"grid":2})", "0.2.0");
  EXPECT_EQ(a, b);
  EXPECT_EQ(count(db, "SELECT count(*) FROM sweeps"), 1);
  EXPECT_EQ(text(db, "SELECT spec_json || ' ' || hcx_version FROM sweeps"), R"({"grid":2} 0.2.0)");
  EXPECT_EQ(text(db, "SELECT created_at FROM sweeps"), created);
  EXPECT_NE(register_sweep(db, "other", "{}", "0.1.0"), a);
  EXPECT_EQ(find_sweep_id(db, "quick"), a);
  EXPECT_EQ(find_sweep_id(db, "nope"), std::nullopt);
}

TEST_F(RunsTest, UpsertRunStoresConfigAndFlattenedParams) {
  upsert_run(db, "r1", cfg_with_steps(123));
  EXPECT_EQ(text(db, "SELECT status FROM runs WHERE id = 'r1'"), "pending");
  EXPECT_EQ(count(db, "SELECT count(*) FROM run_params WHERE run_id = 'r1'"),
            static_cast<int64_t>(config::flatten(cfg_with_steps(123)).size()));
  EXPECT_EQ(text(db, "SELECT value FROM run_params WHERE run_id = 'r1' AND key = 'train.steps'"), "123");
  EXPECT_EQ(text(db, "SELECT value FROM run_params WHERE run_id = 'r1' AND key = 'residual.kind'"), "pre_norm");
  EXPECT_EQ(config::Json::parse(text(db, "SELECT config_json FROM runs"))["train"]["steps"], 123);
}

TEST_F(RunsTest, UpsertOfAnUnchangedConfigWritesNothing) {
  upsert_run(db, "r1", cfg_with_steps(10));
  start_run(db, "r1", {"cpu"});
  const std::string before = testing::dump_tables(db);
  upsert_run(db, "r1", cfg_with_steps(10));  // a sweep re-run: status and updated_at untouched
  EXPECT_EQ(testing::dump_tables(db), before);
  upsert_run(db, "r1", cfg_with_steps(20));
  EXPECT_EQ(text(db, "SELECT value FROM run_params WHERE key = 'train.steps'"), "20");
  EXPECT_EQ(text(db, "SELECT status FROM runs"), "running");
}

TEST_F(RunsTest, RegisterRunsLinksInGridOrderInOneTransaction) {
  const int64_t sweep = register_sweep(db, "s", "{}", "0.1.0");
  int commits = 0;
  sqlite3_commit_hook(db.sql().getHandle(), [](void* n) { ++*static_cast<int*>(n); return 0; }, &commits);
  register_runs(db, sweep, {{"b", cfg_with_steps(1)}, {"a", cfg_with_steps(2)}, {"c", cfg_with_steps(3)}});
  EXPECT_EQ(commits, 1);
  EXPECT_EQ(text(db, "SELECT group_concat(run_id || ':' || position, ' ') FROM "
                     "(SELECT * FROM sweep_runs ORDER BY position)"),
            "b:0 a:1 c:2");
  std::vector<std::string> order;
  for (const auto& s : run_states(db, "s")) order.push_back(s.id + "/" + std::to_string(s.total_steps));
  EXPECT_EQ(order, (std::vector<std::string>{"b/1", "a/2", "c/3"}));
}

TEST_F(RunsTest, LinkRunRejectsUnknownRunsAndSweeps) {
  const int64_t sweep = register_sweep(db, "s", "{}", "0.1.0");
  EXPECT_THROW(link_run(db, sweep, "ghost", 0), Error);
  upsert_run(db, "r", {});
  EXPECT_THROW(link_run(db, sweep + 100, "r", 0), Error);
  link_run(db, sweep, "r", 5);
  link_run(db, sweep, "r", 7);
  EXPECT_EQ(text(db, "SELECT position FROM sweep_runs"), "7");
}

TEST_F(RunsTest, StartHeartbeatFinish) {
  upsert_run(db, "r", cfg_with_steps(50));
  EXPECT_EQ(start_run(db, "r", {"cuda:1", "node7", 4242, std::nullopt, "logs/r.log"}), 1);
  auto s = *run_state(db, "r");
  EXPECT_EQ(s.status, RunStatus::kRunning);
  EXPECT_EQ(s.device, "cuda:1");
  EXPECT_EQ(s.host, "node7");
  EXPECT_EQ(s.pid, 4242);
  EXPECT_EQ(s.attempt, 1);
  EXPECT_EQ(s.log_path, "logs/r.log");
  EXPECT_EQ(s.started_at, s.heartbeat_at);
  EXPECT_LT(*s.heartbeat_age_s, 5.0);

  heartbeat(db, "r", 30, 3000);
  s = *run_state(db, "r");
  EXPECT_EQ(s.step, 30);
  EXPECT_EQ(s.tokens, 3000);

  finish_run(db, "r", RunStatus::kFailed, "CUDA out of memory");
  s = *run_state(db, "r");
  EXPECT_EQ(s.status, RunStatus::kFailed);
  EXPECT_EQ(s.error, "CUDA out of memory");
  EXPECT_FALSE(s.finished_at.empty());

  EXPECT_EQ(start_run(db, "r"), 2);  // defaults: this host and pid; error and finished_at cleared
  s = *run_state(db, "r");
  EXPECT_EQ(s.pid, static_cast<int64_t>(getpid()));
  EXPECT_FALSE(s.host.empty());
  EXPECT_EQ(s.error, "");
  EXPECT_EQ(s.finished_at, "");
  EXPECT_EQ(s.log_path, "logs/r.log");  // kept when not given
  EXPECT_EQ(start_run(db, "r", {"cpu", "", 0, int64_t{7}, ""}), 7);  // Slurm restart count

  finish_run(db, "r", RunStatus::kCompleted);
  EXPECT_EQ(run_state(db, "r")->error, "");
  EXPECT_EQ(text(db, "SELECT error FROM runs"), "NULL");
}

TEST_F(RunsTest, SetProvenanceRecordsTheLatestStartsBuildAndData) {
  upsert_run(db, "a", cfg_with_steps(10));
  upsert_run(db, "b", cfg_with_steps(20));
  // Before any start since schema 2: NULL columns, read as empty fields.
  EXPECT_EQ(text(db, "SELECT code_version FROM runs WHERE id = 'a'"), "NULL");
  auto p = provenances(db);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p["a"].code_version, "");
  EXPECT_EQ(p["a"].data_id, "");

  start_run(db, "a");
  const int64_t rev = count(db, "SELECT revision FROM runs WHERE id = 'a'");
  set_provenance(db, "a", {"0.1.0", "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d-dirty", "4096:cbf29ce484222325"});
  EXPECT_EQ(text(db, "SELECT code_version || '|' || code_commit || '|' || data_id FROM runs WHERE id = 'a'"),
            "0.1.0|1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d-dirty|4096:cbf29ce484222325");
  EXPECT_EQ(count(db, "SELECT revision FROM runs WHERE id = 'a'"), rev + 1);  // collect sees the change
  EXPECT_EQ(text(db, "SELECT code_version FROM runs WHERE id = 'b'"), "NULL");

  // A later start replaces all three; an unknown commit is stored as "", not NULL.
  set_provenance(db, "a", {"0.2.0", "", "synthetic"});
  EXPECT_EQ(text(db, "SELECT code_version || '|' || code_commit || '|' || data_id FROM runs WHERE id = 'a'"),
            "0.2.0||synthetic");
  p = provenances(db, {"a", "ghost"});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p["a"].code_version, "0.2.0");
  EXPECT_EQ(p["a"].code_commit, "");
  EXPECT_EQ(p["a"].data_id, "synthetic");

  EXPECT_THROW(set_provenance(db, "ghost", {"0.1.0", "", ""}), Error);
}

// The claim of `hcx run`: its check and write in one transaction; a refused
// claim writes nothing at all; the winner may create the row.
TEST_F(RunsTest, ClaimCreatesTheRowAndARefusedClaimWritesNothing) {
  const config::RunConfig cfg = cfg_with_steps(10);
  std::vector<std::string> asked;
  const HolderAlive alive = [&](const RunState& row) {
    asked.push_back(row.id + " " + to_string(row.status) + " " + row.proc_start);
    return true;
  };
  StartInfo info{"cpu", "h", 11};
  info.proc_start = "777";
  EXPECT_EQ(claim_run(db, "new", info, alive, &cfg), 1);  // no row yet: created, then started
  EXPECT_TRUE(asked.empty());
  EXPECT_EQ(text(db, "SELECT status || ' ' || pid || ' ' || proc_start FROM runs WHERE id = 'new'"), "running 11 777");
  EXPECT_EQ(text(db, "SELECT value FROM run_params WHERE run_id = 'new' AND key = 'train.steps'"), "10");
  const std::string row = text(db, "SELECT printf('%s|%s|%s|%s|%s|%s', status, pid, attempt, revision, updated_at, "
                                   "config_json) FROM runs WHERE id = 'new'");
  const config::RunConfig other = cfg_with_steps(10, 5e-3);
  EXPECT_EQ(claim_run(db, "new", {"cpu", "h", 12}, alive, &other), std::nullopt);  // held: refused
  EXPECT_EQ(asked, (std::vector<std::string>{"new running 777"}));
  EXPECT_EQ(text(db, "SELECT printf('%s|%s|%s|%s|%s|%s', status, pid, attempt, revision, updated_at, "
                     "config_json) FROM runs WHERE id = 'new'"),
            row);
  EXPECT_EQ(claim_run(db, "new", {"cpu", "h", 13}, [](const RunState&) { return false; }, &other), 2);  // dead: taken
  EXPECT_EQ(text(db, "SELECT pid || ' ' || attempt FROM runs WHERE id = 'new'"), "13 2");
  EXPECT_THROW(claim_run(db, "ghost", info, alive), Error);  // no row and no config
}

TEST_F(RunsTest, FinishRunOfAnAttemptThatLostTheRunWritesNothing) {
  upsert_run(db, "r", {});
  EXPECT_EQ(start_run(db, "r", {"cpu", "a", 1}), 1);
  EXPECT_EQ(start_run(db, "r", {"cpu", "b", 2}), 2);  // taken over
  EXPECT_FALSE(finish_run(db, "r", RunStatus::kCompleted, "", 1));
  EXPECT_EQ(text(db, "SELECT status || ' ' || pid FROM runs WHERE id = 'r'"), "running 2");
  EXPECT_TRUE(finish_run(db, "r", RunStatus::kInterrupted, "stopped", 2));
  EXPECT_EQ(text(db, "SELECT status FROM runs WHERE id = 'r'"), "interrupted");
  EXPECT_THROW(finish_run(db, "ghost", RunStatus::kCompleted, "", 1), Error);
}

TEST_F(RunsTest, HoldsStepsWhenEveryStepFromOneIsRecorded) {
  upsert_run(db, "r", {});
  for (int step : {1, 2, 3, 5}) {
    db.sql().exec("INSERT INTO metrics (run_id, name, step, value) VALUES ('r', 'train/loss', " +
                  std::to_string(step) + ", 1.0)");
  }
  EXPECT_TRUE(holds_steps(db, "r", "train/loss", 0));
  EXPECT_TRUE(holds_steps(db, "r", "train/loss", 3));
  EXPECT_FALSE(holds_steps(db, "r", "train/loss", 5));  // step 4 missing
  EXPECT_FALSE(holds_steps(db, "r", "val/loss", 1));
  EXPECT_FALSE(holds_steps(db, "other", "train/loss", 1));
}

TEST_F(RunsTest, UnknownRunsAndStatusesAreRefused) {
  EXPECT_THROW(start_run(db, "ghost"), Error);
  EXPECT_THROW(heartbeat(db, "ghost", 1, 1), Error);
  EXPECT_THROW(finish_run(db, "ghost", RunStatus::kCompleted), Error);
  EXPECT_THROW(set_summary(db, "ghost", "params", 1), Error);
  upsert_run(db, "r", {});
  try {
    finish_run(db, "r", RunStatus::kRunning);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_EQ(std::string(e.what()),
              "finish_run: status must be completed, failed, diverged or interrupted, got \"running\"");
  }
  EXPECT_EQ(run_state(db, "ghost"), std::nullopt);
}

TEST_F(RunsTest, ClaimRefusesALiveRunAndTakesOverAStaleOne) {
  upsert_run(db, "r", {});
  EXPECT_EQ(claim_run(db, "r", {"cpu", "a", 1}, 60), 1);  // pending: free
  EXPECT_EQ(claim_run(db, "r", {"cpu", "b", 2}, 60), std::nullopt);  // fresh heartbeat: held
  EXPECT_EQ(run_state(db, "r")->host, "a");
  EXPECT_TRUE(stale_runs(db, 60).empty());
  db.sql().exec("UPDATE runs SET heartbeat_at = '2020-01-01T00:00:00.000Z'");
  const auto stale = stale_runs(db, 60);
  ASSERT_EQ(stale.size(), 1u);
  EXPECT_EQ(stale[0].id, "r");
  EXPECT_GT(*stale[0].heartbeat_age_s, 1e7);
  EXPECT_EQ(claim_run(db, "r", {"cpu", "b", 2}, 60), 2);
  EXPECT_EQ(run_state(db, "r")->host, "b");
  finish_run(db, "r", RunStatus::kCompleted);
  db.sql().exec("UPDATE runs SET heartbeat_at = '2020-01-01T00:00:00.000Z'");
  EXPECT_TRUE(stale_runs(db, 60).empty());  // only running rows can be stale
}

TEST_F(RunsTest, RequeuePutsARunBackToPending) {
  upsert_run(db, "r", {});
  start_run(db, "r", {"cpu"});
  finish_run(db, "r", RunStatus::kFailed, "boom");
  requeue_run(db, "r");
  const auto s = *run_state(db, "r");
  EXPECT_EQ(s.status, RunStatus::kPending);
  EXPECT_EQ(s.error, "");
  EXPECT_EQ(s.pid, std::nullopt);
  EXPECT_EQ(s.attempt, 1);
}

TEST_F(RunsTest, SummaryKeysFillColumnsOrRunSummary) {
  upsert_run(db, "r", {});
  set_summary(db, "r", "params", 1234567.0);
  set_summary(db, "r", "best_val_step", 150.0);
  set_summary(db, "r", "final_val_loss", 2.5);
  set_summary(db, "r", "spikes/train/loss/count", 3);
  EXPECT_EQ(text(db, "SELECT typeof(params) || ' ' || params FROM runs"), "integer 1234567");
  EXPECT_EQ(text(db, "SELECT typeof(best_val_step) || ' ' || best_val_step FROM runs"), "integer 150");
  EXPECT_EQ(text(db, "SELECT final_val_loss FROM runs"), "2.5");
  EXPECT_EQ(text(db, "SELECT key || '=' || value FROM run_summary"), "spikes/train/loss/count=3.0");
}

TEST_F(RunsTest, EveryWriteBumpsRevisionAndUpdatedAt) {
  upsert_run(db, "r", {});
  int64_t rev = count(db, "SELECT revision FROM runs");
  auto bumped = [&] {
    const int64_t now = count(db, "SELECT revision FROM runs");
    const bool up = now > rev;
    rev = now;
    return up;
  };
  start_run(db, "r");
  EXPECT_TRUE(bumped());
  heartbeat(db, "r", 1, 1);
  EXPECT_TRUE(bumped());
  set_summary(db, "r", "x", 1);
  EXPECT_TRUE(bumped());
  finish_run(db, "r", RunStatus::kCompleted);
  EXPECT_TRUE(bumped());
  requeue_run(db, "r");
  EXPECT_TRUE(bumped());
}

TEST_F(RunsTest, StatesCountsAndUnknownSweep) {
  const int64_t s = register_sweep(db, "ablation", "{}", "0.1.0");
  register_runs(db, s, {{"r1", cfg_with_steps(10)}, {"r2", cfg_with_steps(10)}, {"r3", cfg_with_steps(10)}});
  upsert_run(db, "loose", {});
  start_run(db, "r2");
  start_run(db, "r3");
  finish_run(db, "r3", RunStatus::kDiverged, "loss is NaN at step 4");
  db.sql().exec("INSERT INTO metrics VALUES ('r2', 'train/loss', 1, 5.5), ('r2', 'train/loss', 2, 4.25)");
  EXPECT_EQ(status_counts(db, "ablation"),
            (std::map<std::string, int64_t>{{"pending", 1}, {"running", 1}, {"diverged", 1}}));
  EXPECT_EQ(status_counts(db).at("pending"), 2);
  const auto states = run_states(db, "ablation");
  ASSERT_EQ(states.size(), 3u);
  EXPECT_EQ(states[1].last_loss, 4.25);
  EXPECT_EQ(states[1].position, 1);
  EXPECT_EQ(states[0].last_loss, std::nullopt);
  EXPECT_EQ(run_states(db).size(), 4u);
  try {
    run_states(db, "ablatoin");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_EQ(std::string(e.what()), db.path().string() + ": unknown sweep 'ablatoin' (did you mean 'ablation'?)");
  }
}

}  // namespace
}  // namespace hcx::store
