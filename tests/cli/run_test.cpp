// hcx run end to end: rows in SQLite, exit codes, exact resume after
// SIGKILL and SIGTERM (README "Reliability"), and --shard runs that never
// open the main database.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "hcx/build_info.h"
#include "hcx/config/run_config.h"
#include "hcx/store/runs.h"
#include "hcx/store/shards.h"
#include "hcx/version.h"

namespace hcx::test {
namespace {

// 40 steps of a tiny model, a checkpoint every 5 and a flush every step, so a
// kill lands between checkpoints most of the time.
constexpr const char* kTinyRun = R"({
  "model": {"d_model": 16, "n_layers": 2, "n_heads": 2, "seq_len": 24, "vocab_size": 64},
  "residual": {"kind": "hc", "n": 2},
  "data": {"synthetic_tokens": 20000},
  "train": {"steps": 40, "batch_size": 4, "lr": 3e-3, "warmup_steps": 4, "log_every": 1,
            "checkpoint_every": 5, "threads": 1},
  "eval": {"every": 10, "batches": 2, "tasks": [{"name": "syn_recall", "kind": "synthetic", "limit": 8}]}
})";

TEST(RunCommand, TrainsAndRecordsEverythingInTheDatabase) {
  TempDir dir;
  write_file(dir / "run.json", kTinyRun);
  const Result r = run_hcx("run run.json --db r/hcx.db", dir.path().string());
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string db = dir / "r/hcx.db";
  EXPECT_EQ(query1(db, "SELECT status || ' ' || step || ' ' || tokens FROM runs"), "completed 40 3840");
  EXPECT_EQ(query1(db, "SELECT count(*) FROM metrics WHERE name = 'train/loss'"), "40");
  EXPECT_EQ(query1(db, "SELECT group_concat(step) FROM metrics WHERE name = 'val/loss'"), "0,10,20,30,40");
  EXPECT_EQ(query1(db, "SELECT count(*) FROM evals WHERE task = 'syn_recall'"), "3");
  EXPECT_EQ(query1(db, "SELECT value FROM run_params WHERE key = 'residual.n'"), "2");
  EXPECT_EQ(query1(db, "SELECT final_val_loss = (SELECT value FROM metrics WHERE name = 'val/loss' AND step = 40) FROM runs"), "1");
  EXPECT_EQ(query1(db, "SELECT count(*) FROM hc_matrices WHERE name = 'hc'"), "4");
  // what trained it: this build (the binary and this test come from one build) on the synthetic data
  EXPECT_EQ(query1(db, "SELECT code_version || '|' || code_commit || '|' || data_id FROM runs"),
            std::string(hcx::kVersion) + "|" + hcx::build_commit() + "|synthetic");
  // a second invocation finds the run completed and trains nothing
  const Result again = run_hcx("run run.json --db r/hcx.db", dir.path().string());
  EXPECT_EQ(again.code, 0);
  EXPECT_NE(again.output.find("already completed"), std::string::npos) << again.output;
}

// A Slurm task's run: its config from the shard the coordinator prepared,
// while the main database is, as a compute node may see it, not a database
// at all, and then gone. The shard stays in the rollback journal.
TEST(RunCommand, ShardRunTrainsFromItsShardWithoutOpeningTheMainDatabase) {
  TempDir dir;
  const Result none = run_hcx("run --run-id tiny --shard --db r/hcx.db", dir.path().string());
  EXPECT_EQ(none.code, 2) << none.output;
  EXPECT_NE(none.output.find("--run-id tiny --shard: no shard r/shards/tiny.db (hcx sweep --executor slurm writes it"),
            std::string::npos)
      << none.output;
  EXPECT_FALSE(fs::exists(dir / "r"));
  {
    store::Db main = store::open_db(dir / "r/hcx.db");
    store::upsert_run(main, "tiny", config::parse_or_throw(nlohmann::json::parse(kTinyRun)));
    store::prepare_shard(main, dir / "r", "tiny");
  }
  for (const char* f : {"r/hcx.db-wal", "r/hcx.db-shm"}) fs::remove(dir / f);
  write_file(dir / "r/hcx.db", "not a database\n");

  const Result r = run_hcx("run --run-id tiny --shard --db r/hcx.db", dir.path().string());
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string shard = dir / "r/shards/tiny.db";
  EXPECT_EQ(query1(shard, "SELECT status || ' ' || step || ' ' || tokens FROM runs"), "completed 40 3840");
  EXPECT_EQ(query1(shard, "SELECT count(*) FROM metrics WHERE name = 'train/loss'"), "40");
  EXPECT_EQ(query1(shard, "PRAGMA journal_mode"), "delete");
  EXPECT_FALSE(fs::exists(shard + "-wal"));
  EXPECT_EQ(read_file(dir / "r/hcx.db"), "not a database\n");
  for (const char* f : {"r/hcx.db-wal", "r/hcx.db-shm", "r/hcx.db-journal"}) EXPECT_FALSE(fs::exists(dir / f)) << f;

  fs::remove(dir / "r/hcx.db");
  const Result again = run_hcx("run --run-id tiny --shard --db r/hcx.db", dir.path().string());
  EXPECT_EQ(again.code, 0) << again.output;
  EXPECT_NE(again.output.find("run tiny is already completed"), std::string::npos) << again.output;
  EXPECT_FALSE(fs::exists(dir / "r/hcx.db"));
  EXPECT_EQ(query1(shard, "PRAGMA journal_mode"), "delete");
}

TEST(RunCommand, EveryMeasurementLandsInTheDatabase) {
  TempDir dir;
  write_file(dir / "run.json", kTinyRun);
  // A touchy spike rule (3-value window, 0.5 sigma) so that the tiny run has spikes to record.
  const Result r = run_hcx("run run.json --db r/hcx.db -s spikes.window=3 -s spikes.sigma=0.5 -s eval.diagnostics_every=20",
                           dir.path().string());
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string db = dir / "r/hcx.db";
  auto count = [&](const std::string& sql) { return std::atoll(query1(db, sql).c_str()); };
  EXPECT_GT(count("SELECT count(*) FROM spikes WHERE metric = 'train/loss' AND score > 0.5"), 0);
  EXPECT_EQ(query1(db, "SELECT value FROM run_summary WHERE key = 'spikes/train/loss/count'"),
            query1(db, "SELECT printf('%.1f', count(*)) FROM spikes WHERE metric = 'train/loss'"));
  EXPECT_EQ(query1(db, "SELECT group_concat(DISTINCT step) FROM layer_stats WHERE name = 'cos/median'"), "20,40");
  EXPECT_EQ(count("SELECT count(*) FROM layer_stats WHERE name = 'grad_norm' AND step = 40"), 4);  // 4 sublayers
  EXPECT_EQ(count("SELECT count(*) FROM layer_stats WHERE name LIKE 'cos/%' AND step = 40"), 9);   // 3 pairs x 3
  EXPECT_EQ(count("SELECT count(*) FROM hc_matrices WHERE step = 40 AND name = 'hc' AND rows = 3"), 4);
  EXPECT_EQ(count("SELECT count(*) FROM hc_matrices WHERE step = 40 AND name = 'unfolded' AND rows = 5"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM metrics WHERE name = 'hc/gain_row'"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM metrics WHERE name = 'time/tokens_per_s'"), 40);  // log_every 1
  EXPECT_GT(count("SELECT value FROM run_summary WHERE key = 'memory/peak_rss_bytes'"), 1000000);
  EXPECT_EQ(query1(db, "SELECT group_concat(metric) FROM evals WHERE step = 40"), "acc,acc_norm,n");
  for (const char* key : {"spikes/window", "spikes/sigma", "spikes/train/grad_norm/count", "time/measure_share"})
    EXPECT_EQ(count(std::string("SELECT count(*) FROM run_summary WHERE key = '") + key + "'"), 1) << key;
}

TEST(RunCommand, BadConfigExitsTwoAndWritesNothing) {
  TempDir dir;
  write_file(dir / "bad.json", R"({"train": {"lr": -3, "stpes": 10}})");
  const Result r = run_hcx("run bad.json --db r/hcx.db", dir.path().string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("bad.json: train.lr: expected a positive number, got -3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("bad.json: train.stpes: unknown key (did you mean 'train.steps'?)"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "r/hcx.db"));
  const Result o = run_hcx("run bad.json -s train.lr", dir.path().string());
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.output.find("-s train.lr: expected key=value"), std::string::npos) << o.output;
}

// A file the run reads is missing: exit 2 naming the run, the key and the
// file, before the run is claimed (nothing written, nothing trained).
TEST(RunCommand, MissingInputFileExitsTwoBeforeTheRunStarts) {
  TempDir dir;
  write_file(dir / "text.json", R"({"model": {"d_model": 16, "n_layers": 1, "n_heads": 2, "seq_len": 16},
      "data": {"source": "text", "path": "corpus.txt"}, "train": {"steps": 2, "batch_size": 2},
      "eval": {"tasks": [{"name": "hs", "kind": "choice", "path": "hs.jsonl"}]}})");
  write_file(dir / "corpus.txt", std::string(4000, 'a'));
  const Result r = run_hcx("run text.json --db r/hcx.db", dir.path().string());
  EXPECT_EQ(r.code, 2) << r.output;
  const std::string db = dir / "r/hcx.db";
  const size_t at = r.output.find("error run ");
  ASSERT_NE(at, std::string::npos) << r.output;
  EXPECT_EQ(r.output.substr(at + 10 + 16, 46), ": eval.tasks[0].path: hs.jsonl: file not found") << r.output;
  EXPECT_EQ(query1(db, "SELECT count(*) FROM runs"), "0");
}

// data.source "tokens" with a vocabulary above 256 and text tasks but no
// tokenizer named: refused (exit 2, naming the key) instead of scoring byte ids.
TEST(RunCommand, TokensWithByteTokenizedTasksAreRefused) {
  TempDir dir;
  write_file(dir / "tok.json", R"({"model": {"vocab_size": 4096}, "data": {"source": "tokens", "path": "c.bin"},
      "eval": {"tasks": [{"name": "hs", "kind": "choice", "path": "hs.jsonl"}]}})");
  const Result r = run_hcx("run tok.json --db r/hcx.db", dir.path().string());
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("tok.json: data.tokenizer: \"bytes\" would encode eval.tasks[0] (hs) as bytes"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(fs::exists(dir / "r/hcx.db"));
}

TEST(RunCommand, DivergedRunExitsOneWithStatusDiverged) {
  TempDir dir;
  write_file(dir / "run.json", kTinyRun);
  const Result r = run_hcx("run run.json -s train.inject_nan_at=7 --db r/hcx.db", dir.path().string());
  EXPECT_EQ(r.code, 1) << r.output;
  const std::string db = dir / "r/hcx.db";
  EXPECT_EQ(query1(db, "SELECT status || ' ' || step FROM runs"), "diverged 6");
  EXPECT_NE(query1(db, "SELECT error FROM runs").find("non-finite loss at step 7"), std::string::npos);
}

// Kills a run with `sig` once it has reached `step`, then runs it again.
void interrupt_and_resume(int sig, int64_t step) {
  TempDir ref, dir;
  write_file(ref / "run.json", kTinyRun);
  write_file(dir / "run.json", kTinyRun);
  ASSERT_EQ(run_hcx("run run.json --db r/hcx.db", ref.path().string()).code, 0);

  const std::string db = dir / "r/hcx.db";
  const pid_t pid = spawn_hcx({"run", "run.json", "--db", "r/hcx.db"}, dir / "first.log", dir.path().string());
  ASSERT_TRUE(wait_until([&] {
    try {
      return fs::exists(db) && std::atoll(query1(db, "SELECT coalesce(max(step), 0) FROM runs").c_str()) >= step;
    } catch (const std::exception&) {
      return false;  // the schema is being created
    }
  }, 120)) << "the run never reached step " << step;
  ::kill(pid, sig);
  const int code = wait_exit(pid);
  if (sig == SIGKILL) {
    EXPECT_EQ(code, 128 + SIGKILL);
  } else {
    EXPECT_EQ(code, 3);  // interrupted
    EXPECT_EQ(query1(db, "SELECT status FROM runs"), "interrupted");
  }
  const Result resumed = run_hcx("run run.json --db r/hcx.db", dir.path().string());
  ASSERT_EQ(resumed.code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resumed from the checkpoint at step"), std::string::npos) << resumed.output;

  // Same per-step train losses, value for value, and the same final figures.
  const auto expected = train_losses(ref / "r/hcx.db");
  const auto got = train_losses(db);
  ASSERT_EQ(got.size(), 40u);
  EXPECT_EQ(got, expected);
  const char* final_figures = "SELECT printf('%.17g %.17g %.17g', final_val_loss, best_val_loss, final_train_loss) FROM runs";
  EXPECT_EQ(query1(db, final_figures), query1(ref / "r/hcx.db", final_figures));
  const char* evals = "SELECT group_concat(printf('%s %s %.17g', task, metric, value)) FROM evals";
  EXPECT_EQ(query1(db, evals), query1(ref / "r/hcx.db", evals));
  EXPECT_EQ(query1(db, "SELECT status FROM runs"), "completed");
}

TEST(RunCommand, SigkillThenResumeReproducesTheUninterruptedRun) { interrupt_and_resume(SIGKILL, 13); }

TEST(RunCommand, SigtermCheckpointsStopsAsInterruptedAndResumesExactly) { interrupt_and_resume(SIGTERM, 8); }

}  // namespace
}  // namespace hcx::test
