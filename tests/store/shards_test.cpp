// Shards: per-run databases merged into the main one, idempotently.
#include "hcx/store/shards.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "hcx/error.h"
#include "hcx/store/reader.h"
#include "hcx/store/runs.h"
#include "hcx/store/schema.h"
#include "hcx/store/sqlite_sink.h"
#include "test_util.h"

namespace hcx::store {
namespace {

using testing::count;
using testing::dump_tables;
using testing::TempDir;

// What `hcx run --shard` does: its own database, its run row, metrics.
void write_shard_run(Db& shard, const std::string& run, int64_t from, int64_t to, bool finish) {
  SqliteSink sink(shard, run);
  for (int64_t step = from; step <= to; ++step) {
    sink.scalar(step, "train/loss", 10.0 - static_cast<double>(step));
    sink.layer_stat(step, 0, "grad_norm", 1.0);
    sink.progress(step, step * 10);
    sink.flush();
  }
  if (finish) {
    sink.summary("final_train_loss", 10.0 - static_cast<double>(to));
    sink.summary("spikes/train/loss/count", 0);
    sink.flush();
    finish_run(shard, run, RunStatus::kCompleted);
  }
}

Db start_shard(const std::filesystem::path& results, const std::string& run) {
  Db shard = open_shard(shard_path(results, run));
  config::RunConfig cfg;
  cfg.train.steps = 20;
  upsert_run(shard, run, cfg);
  start_run(shard, run, {"cuda:0", "gpu-node-3", 999});
  return shard;
}

struct ShardsTest : ::testing::Test {
  TempDir dir;
  std::filesystem::path results = dir.path();
  Db main = open_db(results / "hcx.db");
  std::filesystem::path shards = shard_dir_for(results / "hcx.db");
};

TEST(ShardPath, IsResultsShardsRunIdDb) {
  EXPECT_EQ(shard_path("results", "0123456789abcdef"), std::filesystem::path("results/shards/0123456789abcdef.db"));
  EXPECT_EQ(shard_dir_for("results/hcx.db"), std::filesystem::path("results/shards"));
  EXPECT_EQ(shard_dir_for("hcx.db"), std::filesystem::path("shards"));
}

TEST_F(ShardsTest, MergesFinishedShardsAndASecondCollectChangesNothing) {
  const int64_t sweep = register_sweep(main, "cluster", "{}", "0.1.0");
  config::RunConfig cfg;
  cfg.train.steps = 20;
  register_runs(main, sweep, {{"a", cfg}, {"b", cfg}});  // the coordinator's pending rows
  for (const char* run : {"a", "b"}) {
    Db shard = start_shard(results, run);
    write_shard_run(shard, run, 1, 20, true);
  }
  const CollectReport first = collect(main, shards);
  ASSERT_EQ(first.shards.size(), 2u);
  EXPECT_EQ(first.merged_runs(), 2);
  EXPECT_EQ(first.failed(), 0);
  EXPECT_EQ(count(main, "SELECT count(*) FROM metrics"), 40);
  EXPECT_EQ(count(main, "SELECT count(*) FROM layer_stats"), 40);
  const auto a = *get_run(main, "a");
  EXPECT_EQ(a.status, RunStatus::kCompleted);
  EXPECT_EQ(a.host, "gpu-node-3");
  EXPECT_EQ(a.step, 20);
  EXPECT_EQ(a.final_train_loss, -10.0);
  EXPECT_EQ(a.summary.at("spikes/train/loss/count"), 0.0);
  EXPECT_EQ(a.params.at("train.steps"), "20");
  EXPECT_EQ(run_states(main, "cluster").size(), 2u);  // sweep links untouched

  const std::string after_first = dump_tables(main);
  const CollectReport second = collect(main, shards);
  EXPECT_EQ(second.merged_runs(), 0);
  EXPECT_EQ(second.shards[0].unchanged_runs, 1);
  EXPECT_EQ(dump_tables(main), after_first);
}

TEST_F(ShardsTest, InProgressShardIsMergedAgainWithoutDuplicates) {
  Db shard = start_shard(results, "r");
  write_shard_run(shard, "r", 1, 8, false);
  collect(main, shards);
  EXPECT_EQ(count(main, "SELECT count(*) FROM metrics"), 8);
  EXPECT_EQ(run_state(main, "r")->status, RunStatus::kRunning);
  write_shard_run(shard, "r", 9, 20, true);
  const CollectReport again = collect(main, shards);
  EXPECT_EQ(again.merged_runs(), 1);
  EXPECT_EQ(count(main, "SELECT count(*) FROM metrics"), 20);
  EXPECT_EQ(metric_curve(main, "r", "train/loss").steps.front(), 1);
  EXPECT_EQ(run_state(main, "r")->status, RunStatus::kCompleted);
  const std::string merged = dump_tables(main);
  collect(main, shards);
  EXPECT_EQ(dump_tables(main), merged);
}

TEST_F(ShardsTest, AResumedShardReplacesTheRunsRowsEntirely) {
  Db shard = start_shard(results, "r");
  write_shard_run(shard, "r", 1, 15, false);
  collect(main, shards);
  EXPECT_EQ(count(main, "SELECT max(step) FROM metrics"), 15);
  SqliteSink sink(shard, "r");
  sink.resume_from(10);  // requeued: restarts after the step-10 checkpoint
  sink.scalar(11, "train/loss", 42.0);
  sink.flush();
  collect(main, shards);
  EXPECT_EQ(count(main, "SELECT max(step) FROM metrics"), 11);
  EXPECT_EQ(count(main, "SELECT count(*) FROM layer_stats"), 10);
  EXPECT_EQ(metric_curve(main, "r", "train/loss").values.back(), 42.0);
}

TEST_F(ShardsTest, TheNewerRunsRowWins) {
  Db shard = start_shard(results, "r");
  write_shard_run(shard, "r", 1, 5, false);
  collect(main, shards);
  write_shard_run(shard, "r", 6, 6, false);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  finish_run(main, "r", RunStatus::kInterrupted, "cancelled by the user");  // main written after the shard
  const CollectReport report = collect(main, shards);
  EXPECT_EQ(report.shards[0].older_runs, 1);
  EXPECT_EQ(run_state(main, "r")->status, RunStatus::kInterrupted);
  EXPECT_EQ(run_state(main, "r")->step, 5);
  EXPECT_EQ(collect(main, shards).shards[0].older_runs, 1);  // still ignored while the shard stands still
  write_shard_run(shard, "r", 7, 7, false);  // the shard moves on (same millisecond or later: it wins)
  collect(main, shards);
  EXPECT_EQ(run_state(main, "r")->status, RunStatus::kRunning);
  EXPECT_EQ(run_state(main, "r")->step, 7);
  EXPECT_EQ(count(main, "SELECT count(*) FROM metrics"), 7);
}

TEST_F(ShardsTest, AnUnchangedShardDoesNotUndoLaterWritesToMain) {
  Db shard = start_shard(results, "r");
  write_shard_run(shard, "r", 1, 5, false);
  collect(main, shards);
  finish_run(main, "r", RunStatus::kInterrupted, "cancelled");  // even within the same millisecond
  const CollectReport report = collect(main, shards);
  EXPECT_EQ(report.shards[0].unchanged_runs, 1);
  EXPECT_EQ(run_state(main, "r")->status, RunStatus::kInterrupted);
}

TEST_F(ShardsTest, SweepsInAShardAreMatchedByName) {
  Db shard = start_shard(results, "r");
  const int64_t shard_sweep = register_sweep(shard, "cluster", R"({"from":"shard"})", "0.1.0");
  link_run(shard, shard_sweep, "r", 3);
  register_sweep(main, "first", "{}", "0.1.0");  // ids differ between the two files
  collect(main, shards);
  const auto runs = list_runs(main, "cluster");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].position, 3);
  const std::string merged = dump_tables(main);
  collect(main, shards);
  EXPECT_EQ(dump_tables(main), merged);
}

TEST_F(ShardsTest, BadShardsAreReportedAndTheOthersStillMerged) {
  std::filesystem::create_directories(shards);
  std::ofstream(shards / "0-garbage.db") << "this is not a database";
  Db fresh = open_db(shards / "1-newer.db");
  fresh.sql().exec("PRAGMA user_version = " + std::to_string(kSchemaVersion + 1));
  SQLite::Database(shards / "2-empty.db", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);  // not initialised yet
  std::ofstream(shards / "notes.txt") << "ignored: not a .db file";
  {
    Db shard = start_shard(results, "r");
    write_shard_run(shard, "r", 1, 3, true);
  }
  const CollectReport report = collect(main, shards);
  ASSERT_EQ(report.shards.size(), 4u);
  EXPECT_NE(report.shards[0].skipped, "");
  EXPECT_NE(report.shards[1].skipped.find("newer than this hcx"), std::string::npos) << report.shards[1].skipped;
  EXPECT_EQ(report.shards[2].skipped, "not initialised yet");
  EXPECT_EQ(report.shards[3].merged_runs, 1);
  EXPECT_EQ(report.failed(), 2);
  EXPECT_EQ(count(main, "SELECT count(*) FROM metrics"), 3);
  std::ostringstream out;
  print_collect_report(report, out);
  const std::string text = out.str();
  EXPECT_NE(text.find("merged " + (shards / "r.db").string() + ": 1 run, "), std::string::npos) << text;
  EXPECT_NE(text.find("skipped " + (shards / "2-empty.db").string() + ": not initialised yet\n"), std::string::npos);
  EXPECT_NE(text.find("collect: 4 shards, 1 runs merged, 0 unchanged, 3 skipped\n"), std::string::npos) << text;
}

TEST_F(ShardsTest, ShardsAreNeverModified) {
  {
    Db shard = start_shard(results, "r");
    write_shard_run(shard, "r", 1, 3, true);
  }
  const auto path = shard_path(results, "r");
  std::ifstream in(path, std::ios::binary);
  const std::string before((std::istreambuf_iterator<char>(in)), {});
  collect(main, shards);
  std::ifstream in2(path, std::ios::binary);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(in2)), {}), before);
}

std::string journal_mode(const std::filesystem::path& path) {
  return open_db(path, OpenMode::kReadOnly).sql().execAndGet("PRAGMA journal_mode").getString();
}

// A shard of schema version 1 (an older hcx), in `journal` mode, holding one
// completed run.
void write_v1_shard(const std::filesystem::path& path, const std::string& journal) {
  std::filesystem::create_directories(path.parent_path());
  SQLite::Database sql(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  sql.exec("PRAGMA journal_mode=" + journal);
  sql.exec(kMigrations[0]);
  sql.exec("PRAGMA user_version = 1");
  sql.exec("INSERT INTO runs (id, config_json, status, step, updated_at, revision) "
           "VALUES ('old', '{}', 'completed', 20, '2026-01-01T00:00:00.000Z', 3)");
}

// collect() migrates an old shard before attaching it: that read-write open
// leaves (or puts) the shard in the rollback journal, never in WAL.
TEST_F(ShardsTest, CollectMigratesAnOldShardIntoTheRollbackJournalNotWal) {
  for (const std::string journal : {"delete", "wal"}) {
    SCOPED_TRACE(journal);
    const auto path = shard_path(results, "old");
    std::filesystem::remove(path);
    write_v1_shard(path, journal);
    ASSERT_EQ(journal_mode(path), journal);
    const CollectReport report = collect(main, shards);
    ASSERT_EQ(report.shards.size(), 1u);
    EXPECT_EQ(report.shards[0].skipped, "");
    EXPECT_EQ(open_db(path, OpenMode::kReadOnly).schema_version(), kSchemaVersion);
    EXPECT_EQ(journal_mode(path), "delete");
    EXPECT_FALSE(std::filesystem::exists(path.string() + "-wal"));
    EXPECT_EQ(count(main, "SELECT count(*) FROM runs WHERE id = 'old' AND status = 'completed' AND step = 20"), 1);
  }
}

// A task killed in the middle of a transaction leaves a hot journal behind;
// collect rolls it back and merges what the shard had committed.
TEST_F(ShardsTest, AShardWhoseWriterDiedMidTransactionIsRolledBackAndMerged) {
  {
    Db shard = start_shard(results, "r");
    write_shard_run(shard, "r", 1, 3, false);
  }
  const auto path = shard_path(results, "r");
  const pid_t pid = fork();
  if (pid == 0) {  // the dying writer: pages of an open transaction reach the file, then _exit
    SQLite::Database sql(path.string(), SQLite::OPEN_READWRITE);
    sql.exec("PRAGMA cache_size=1");
    sql.exec("BEGIN");
    for (int i = 0; i < 20000; ++i) sql.exec("INSERT INTO metrics (run_id, name, step, value) VALUES ('r', 'junk', " +
                                            std::to_string(100 + i) + ", 1.0)");
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(std::filesystem::exists(path.string() + "-journal"));
  try {  // what collect's read-only look at the shard met before
    open_db(path, OpenMode::kReadOnly);
    FAIL() << "read a shard with a hot journal read-only";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), path.string() + ": attempt to write a readonly database");
  }

  const CollectReport report = collect(main, shards);
  ASSERT_EQ(report.shards.size(), 1u);
  EXPECT_EQ(report.shards[0].skipped, "");
  EXPECT_EQ(report.merged_runs(), 1);
  EXPECT_FALSE(std::filesystem::exists(path.string() + "-journal"));
  EXPECT_EQ(count(main, "SELECT count(*) FROM metrics WHERE run_id = 'r' AND name = 'train/loss'"), 3);
  EXPECT_EQ(count(main, "SELECT count(*) FROM metrics WHERE name = 'junk'"), 0);
}

// What the coordinator does before sbatch: the task then finds its config in
// its shard. Main's row (here: interrupted at step 7 by an earlier local run)
// is not overwritten by the prepared shard's pending row; the task's writes
// are merged as usual; a shard with results is left exactly as it is.
TEST_F(ShardsTest, PrepareShardGivesTheTaskItsConfigAndCollectLeavesMainAlone) {
  config::RunConfig cfg;
  cfg.train.steps = 20;
  cfg.seed = 5;
  upsert_run(main, "r", cfg);
  start_run(main, "r", {"cpu", "laptop", 42});
  heartbeat(main, "r", 7, 70);
  finish_run(main, "r", RunStatus::kInterrupted);

  prepare_shard(main, results, "r");
  const auto path = shard_path(results, "r");
  EXPECT_EQ(journal_mode(path), "delete");
  {
    const Db shard = open_db(path, OpenMode::kReadOnly);
    EXPECT_EQ(get_run(shard, "r")->config_json, get_run(main, "r")->config_json);
    EXPECT_EQ(get_run(shard, "r")->params, get_run(main, "r")->params);
    EXPECT_EQ(get_run(shard, "r")->status, RunStatus::kPending);
  }
  CollectReport report = collect(main, shards);
  ASSERT_EQ(report.shards.size(), 1u);
  EXPECT_EQ(report.shards[0].unchanged_runs, 1);
  EXPECT_EQ(report.merged_runs(), 0);
  EXPECT_EQ(run_state(main, "r")->status, RunStatus::kInterrupted);
  EXPECT_EQ(run_state(main, "r")->step, 7);

  {  // the task: hcx run --run-id r --shard
    Db shard = open_shard(path);
    start_run(shard, "r", {"cuda:0", "gpu-node-3", 999});
    write_shard_run(shard, "r", 8, 20, true);
  }
  EXPECT_EQ(collect(main, shards).merged_runs(), 1);
  EXPECT_EQ(run_state(main, "r")->status, RunStatus::kCompleted);
  EXPECT_EQ(run_state(main, "r")->step, 20);

  const std::string before = dump_tables(open_db(path, OpenMode::kReadOnly));
  prepare_shard(main, results, "r");  // a resubmission
  EXPECT_EQ(dump_tables(open_db(path, OpenMode::kReadOnly)), before);

  try {
    prepare_shard(main, results, "nope");
    FAIL() << "prepared a shard for an unknown run";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_EQ(std::string(e.what()), (results / "hcx.db").string() + ": unknown run id 'nope'");
  }
  EXPECT_FALSE(std::filesystem::exists(shard_path(results, "nope")));
}

TEST_F(ShardsTest, NoShardDirectoryIsNothingToDo) {
  EXPECT_TRUE(collect(main, dir / "nowhere").shards.empty());
}

}  // namespace
}  // namespace hcx::store
