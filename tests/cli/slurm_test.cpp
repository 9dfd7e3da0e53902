// hcx sweep --executor slurm end to end, on the real single-node Slurm of
// tests/slurm (started by the ctest fixture slurm_start, or here when these
// tests run on their own; HCX_SKIP_SLURM=1 skips them with a reason):
// a 3-run sweep submitted, collected and compared row by row with the same
// sweep run locally, collect run twice, a resubmission that submits nothing;
// runs sent USR1 and SIGTERM mid-training that requeue and finish with the
// numbers of uninterrupted runs; --cancel; Slurm refusing a submission.
// SlurmCli: the errors that need no cluster, and a task that trains from its
// shard alone.
#include <cstdlib>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "hcx/store/runs.h"
#include "hcx/store/shards.h"

namespace hcx::test {
namespace {

// Three tiny runs (threads 1: CPU runs are deterministic), `steps` each.
std::string sweep_file(const std::string& name, int steps, const std::string& residuals) {
  return R"({
  "name": ")" + name + R"(",
  "base": {
    "model": {"d_model": 16, "n_layers": 2, "n_heads": 2, "seq_len": 24, "vocab_size": 64},
    "data": {"synthetic_tokens": 20000},
    "train": {"steps": )" + std::to_string(steps) + R"(, "batch_size": 4, "lr": 3e-3, "warmup_steps": 4,
              "log_every": 1, "checkpoint_every": 5, "threads": 1},
    "eval": {"every": 10, "batches": 2, "tasks": [{"name": "syn_recall", "kind": "synthetic", "limit": 8}]}
  },
  "grid": {"residual": [)" + residuals + R"(]}
})";
}
const char* const kThreeVariants = R"({"kind": "pre_norm"}, {"kind": "hc", "n": 2}, {"kind": "post_norm"})";

std::string slurm_dir() {
  const char* d = std::getenv("HCX_SLURM_DIR");
  return d && *d ? d : "/tmp/hcx-slurm";
}

bool skip_slurm() {
  const char* s = std::getenv("HCX_SKIP_SLURM");
  return s && std::string(s) == "1";
}

// Runs a shell command; stdout and stderr together.
Result shell(const std::string& cmd) { return capture(cmd + " 2>&1"); }

bool contains(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

// "Submitted Slurm job 123: ..." -> "123"
std::string job_id_in(const std::string& output) {
  std::smatch m;
  return std::regex_search(output, m, std::regex("Submitted Slurm job ([0-9]+)")) ? m[1].str() : "";
}

// The state of each task of array `job`, by index ("" when squeue does not list it).
std::vector<std::string> task_states(const std::string& job, size_t n) {
  std::vector<std::string> states(n);
  const Result r = shell("squeue -h -r -t all -j " + job + " -O 'ArrayTaskID:|,State:|'");
  std::istringstream in(r.output);
  std::string line;
  while (std::getline(in, line)) {
    const size_t bar = line.find('|');
    if (bar == std::string::npos || line[0] < '0' || line[0] > '9') continue;
    const size_t i = std::stoul(line.substr(0, bar));
    if (i < n) states[i] = line.substr(bar + 1, line.find('|', bar + 1) - bar - 1);
  }
  return states;
}

// Polls every 250 ms: gentler on slurmctld than wait_until's default.
template <class Pred>
bool poll_slurm(Pred pred, double timeout_s) {
  return wait_until(pred, timeout_s, 250);
}

bool all_ended(const std::string& job, size_t n) {
  for (const auto& s : task_states(job, n))
    if (s != "COMPLETED" && s != "FAILED" && s != "CANCELLED" && s != "TIMEOUT" && s != "NODE_FAIL") return false;
  return true;
}

// Every row of `sql` as one text per row.
std::vector<std::string> rows(const std::string& db, const std::string& sql) {
  SQLite::Database d(db, SQLite::OPEN_READONLY);
  d.setBusyTimeout(5000);
  SQLite::Statement q(d, sql);
  std::vector<std::string> out;
  while (q.executeStep()) {
    std::string row;
    for (int c = 0; c < q.getColumnCount(); ++c) row += (c ? "|" : "") + q.getColumn(c).getString();
    out.push_back(row);
  }
  return out;
}

// What a sweep leaves in the database, without what depends on the clock or the machine.
const char* const kComparable[] = {
    "SELECT id, status, step, tokens, attempt, device, params, final_train_loss, final_val_loss, best_val_loss, "
    "best_val_step, config_json, error FROM runs ORDER BY id",
    "SELECT s.name, r.run_id, r.position FROM sweep_runs r JOIN sweeps s ON s.id = r.sweep_id ORDER BY 1, 3",
    "SELECT * FROM run_params ORDER BY 1, 2",
    "SELECT run_id, name, step, value FROM metrics WHERE name NOT LIKE 'time/%' ORDER BY 1, 2, 3",
    "SELECT * FROM evals ORDER BY 1, 2, 3, 4",
    "SELECT * FROM spikes ORDER BY 1, 2, 3",
    "SELECT * FROM layer_stats ORDER BY 1, 2, 3, 4",
    "SELECT * FROM hc_matrices ORDER BY 1, 2, 3, 5",
    "SELECT * FROM run_summary WHERE key NOT LIKE 'time/%' AND key NOT LIKE 'memory/%' ORDER BY 1, 2",
};

// Everything in the database, for "nothing changed".
std::string fingerprint(const std::string& db) {
  std::string all;
  for (const char* table : {"sweeps", "runs", "sweep_runs", "run_params", "metrics", "spikes", "evals", "layer_stats",
                            "hc_matrices", "shard_merges", "run_summary"})
    for (const auto& r : rows(db, std::string("SELECT * FROM ") + table)) all += std::string(table) + ":" + r + "\n";
  return all;
}

std::vector<std::string> manifest_run_ids(const std::string& path) {
  const auto j = nlohmann::json::parse(read_file(path));
  std::vector<std::string> ids;
  for (const auto& r : j.at("runs")) ids.push_back(r.at("run_id").get<std::string>());
  return ids;
}

int64_t shard_step(const std::string& shard) {
  try {
    const std::string s = query1(shard, "SELECT step FROM runs");
    return s.empty() ? 0 : std::stoll(s);
  } catch (const std::exception&) {
    return 0;  // not created yet
  }
}

class SlurmCluster : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (skip_slurm()) return;
    ::setenv("SLURM_CONF", (slurm_dir() + "/slurm.conf").c_str(), 1);
    // Quick when the ctest fixture (slurm_start) has started it already.
    const Result r = shell(std::string(HCX_SOURCE_DIR) + "/tests/slurm/start-slurm.sh");
    start_ok_ = r.code == 0;
    start_output_ = r.output;
    started_here_ = start_ok_ && contains(r.output, " idle after ");
  }
  static void TearDownTestSuite() {
    if (started_here_) shell(std::string(HCX_SOURCE_DIR) + "/tests/slurm/stop-slurm.sh");
  }
  void SetUp() override {
    if (skip_slurm()) GTEST_SKIP() << "HCX_SKIP_SLURM=1: the Slurm tests are skipped";
    ASSERT_TRUE(start_ok_) << "cannot start the test Slurm (tests/slurm/start-slurm.sh; as root; "
                              "HCX_SKIP_SLURM=1 skips these tests):\n"
                           << start_output_;
  }

  static inline bool start_ok_ = false, started_here_ = false;
  static inline std::string start_output_;
};

TEST_F(SlurmCluster, SweepLandsInTheDatabaseExactlyAsALocalSweepAndCollectIsIdempotent) {
  TempDir local, slurm;
  write_file(local / "exp.json", sweep_file("trio", 30, kThreeVariants));
  write_file(slurm / "exp.json", sweep_file("trio", 30, kThreeVariants));
  const Result ref = run_hcx("sweep exp.json --db r/hcx.db --jobs 2", local.path().string());
  ASSERT_EQ(ref.code, 0) << ref.output;

  // Fire and forget: the job id, then back at once.
  const Result sub = run_hcx("sweep exp.json --executor slurm --db r/hcx.db --cpus-per-task 1 --max-parallel 2",
                             slurm.path().string());
  ASSERT_EQ(sub.code, 0) << sub.output;
  const std::string job = job_id_in(sub.output);
  ASSERT_FALSE(job.empty()) << sub.output;
  EXPECT_TRUE(contains(sub.output, "3 runs (array 0-2%2)")) << sub.output;
  const std::string dir = slurm / "r/slurm/trio";
  const std::string script = read_file(dir + "/array-1.sh");
  for (const char* want : {"#SBATCH --signal=B:USR1@300", "#SBATCH --open-mode=append", "#SBATCH --requeue",
                           "#SBATCH --cpus-per-task=1", "/logs/%A_%a.out", "slurm-task --manifest '"})
    EXPECT_TRUE(contains(script, want)) << want << " in\n" << script;
  EXPECT_EQ(manifest_run_ids(dir + "/manifest-1.json").size(), 3u);

  // Submitting again while the array is queued or running (or just done) submits nothing.
  const Result again = run_hcx("sweep exp.json --executor slurm --db r/hcx.db", slurm.path().string());
  EXPECT_EQ(again.code, 0) << again.output;
  EXPECT_TRUE(contains(again.output, "Nothing to submit")) << again.output;

  ASSERT_TRUE(poll_slurm([&] { return all_ended(job, 3); }, 180)) << shell("squeue -t all").output;
  EXPECT_EQ(task_states(job, 3), (std::vector<std::string>{"COMPLETED", "COMPLETED", "COMPLETED"}));
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(contains(read_file(dir + "/logs/" + job + "_" + std::to_string(i) + ".out"), "ended: exit 0"));

  // hcx status merges the shards and shows the Slurm state next to hcx's.
  const Result status = run_hcx("status --sweep trio --db r/hcx.db", slurm.path().string());
  ASSERT_EQ(status.code, 0) << status.output;
  EXPECT_TRUE(contains(status.output, "3 runs: 3 completed")) << status.output;
  EXPECT_TRUE(contains(status.output, "COMPLETED " + job + "_2")) << status.output;

  const std::string db = slurm / "r/hcx.db";
  for (const char* sql : kComparable) EXPECT_EQ(rows(db, sql), rows(local / "r/hcx.db", sql)) << sql;
  EXPECT_EQ(rows(db, "SELECT count(*) FROM metrics WHERE name = 'train/loss'"), std::vector<std::string>{"90"});
  for (const auto& run : manifest_run_ids(dir + "/manifest-1.json"))  // shards: rollback journal, never WAL
    EXPECT_EQ(query1(slurm / ("r/shards/" + run + ".db"), "PRAGMA journal_mode"), "delete") << run;
  EXPECT_EQ(query1(db, "PRAGMA journal_mode"), "wal");

  // collect twice: the second changes nothing.
  const std::string before = fingerprint(db);
  const Result c1 = run_hcx("collect --db r/hcx.db", slurm.path().string());
  ASSERT_EQ(c1.code, 0) << c1.output;
  EXPECT_TRUE(contains(c1.output, "0 runs merged, 3 unchanged")) << c1.output;
  EXPECT_EQ(fingerprint(db), before);

  // Everything done: a resubmission submits nothing.
  const Result done = run_hcx("sweep exp.json --executor slurm --db r/hcx.db", slurm.path().string());
  EXPECT_EQ(done.code, 0) << done.output;
  EXPECT_TRUE(contains(done.output, "Nothing to submit")) << done.output;
  EXPECT_TRUE(contains(done.output, "3 done")) << done.output;
  EXPECT_FALSE(std::filesystem::exists(dir + "/manifest-2.json"));
  const std::string subs = read_file(dir + "/submissions.tsv");
  EXPECT_EQ(std::count(subs.begin(), subs.end(), '\n'), 2) << subs;  // header and submission 1
}

// Task 0 gets Slurm's warning (USR1 to the batch script), task 1 a SIGTERM
// to all its processes (preemption); both checkpoint, requeue themselves and
// end with the numbers of runs never interrupted. --wait follows it all.
TEST_F(SlurmCluster, UsrOneAndSigtermMidTrainingRequeueAndFinishWithTheSameNumbers) {
  const std::string residuals = R"({"kind": "pre_norm"}, {"kind": "hc", "n": 2})";
  TempDir local, slurm;
  write_file(local / "exp.json", sweep_file("requeue", 300, residuals));
  write_file(slurm / "exp.json", sweep_file("requeue", 300, residuals));
  const Result ref = run_hcx("sweep exp.json --db r/hcx.db --jobs 2", local.path().string());
  ASSERT_EQ(ref.code, 0) << ref.output;

  const pid_t waiter = spawn_hcx({"sweep", "exp.json", "--executor", "slurm", "--wait", "--poll", "0.5", "--db",
                                  "r/hcx.db", "--cpus-per-task", "1", "--max-requeues", "2"},
                                 slurm / "wait.log", slurm.path().string());
  const std::string dir = slurm / "r/slurm/requeue";
  ASSERT_TRUE(wait_until([&] { return contains(read_file(dir + "/submissions.tsv"), "\n1\t"); }, 60))
      << read_file(slurm / "wait.log");
  const std::string job = read_file(dir + "/submissions.tsv");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(job, m, std::regex("\n1\t([0-9]+)\t")));
  const std::string id = m[1].str();
  const auto runs = manifest_run_ids(dir + "/manifest-1.json");
  ASSERT_EQ(runs.size(), 2u);

  const std::string signals[] = {"scancel --signal=USR1 --batch " + id + "_0",
                                 "scancel --signal=TERM --full " + id + "_1"};
  for (int i = 0; i < 2; ++i) {
    const std::string shard = slurm / ("r/shards/" + runs[i] + ".db");
    ASSERT_TRUE(wait_until([&] { return shard_step(shard) >= 12; }, 120)) << read_file(slurm / "wait.log");
    const Result s = shell(signals[i]);
    ASSERT_EQ(s.code, 0) << signals[i] << ": " << s.output;
  }
  const int code = wait_exit_within(waiter, 240);
  const std::string wait_log = read_file(slurm / "wait.log");
  ASSERT_EQ(code, 0) << wait_log;
  EXPECT_TRUE(contains(wait_log, "2 completed")) << wait_log;

  const std::string log0 = read_file(dir + "/logs/" + id + "_0.out");
  const std::string log1 = read_file(dir + "/logs/" + id + "_1.out");
  EXPECT_TRUE(contains(log0, "passed signal 10")) << log0;
  EXPECT_TRUE(contains(log1, "passed signal 15")) << log1;
  for (const auto* log : {&log0, &log1}) {
    EXPECT_TRUE(contains(*log, "interrupted: requeueing: attempt 2 of at most 3")) << *log;
    EXPECT_TRUE(contains(*log, "attempt 2, on")) << *log;
    EXPECT_TRUE(contains(*log, "ended: exit 0")) << *log;
  }
  const std::string db = slurm / "r/hcx.db";
  EXPECT_EQ(rows(db, "SELECT status, attempt, step FROM runs ORDER BY id"),
            (std::vector<std::string>{"completed|2|300", "completed|2|300"}));
  for (const auto& run : runs)  // both really were stopped mid-run
    EXPECT_TRUE(contains(read_file(slurm / ("r/logs/" + run + ".log")), "attempt 2")) << run;
  const std::string curve = "SELECT run_id, step, value FROM metrics WHERE name = 'train/loss' ORDER BY 1, 2";
  EXPECT_EQ(rows(db, curve).size(), 600u);
  EXPECT_EQ(rows(db, curve), rows(local / "r/hcx.db", curve));
  const std::string finals = "SELECT id, final_train_loss, final_val_loss, best_val_loss FROM runs ORDER BY id";
  EXPECT_EQ(rows(db, finals), rows(local / "r/hcx.db", finals));
}

TEST_F(SlurmCluster, CancelStopsTheRunsWithoutRequeueAndTheSweepResumesThem) {
  TempDir dir;
  write_file(dir / "exp.json", sweep_file("cancel", 5000, R"({"kind": "pre_norm"})"));
  const Result sub = run_hcx("sweep exp.json --executor slurm --db r/hcx.db --cpus-per-task 1", dir.path().string());
  ASSERT_EQ(sub.code, 0) << sub.output;
  const std::string job = job_id_in(sub.output);
  const std::string run = manifest_run_ids(dir / "r/slurm/cancel/manifest-1.json").at(0);
  ASSERT_TRUE(wait_until([&] { return shard_step(dir / ("r/shards/" + run + ".db")) >= 5; }, 120));

  const Result cancel = run_hcx("sweep exp.json --executor slurm --db r/hcx.db --cancel", dir.path().string());
  ASSERT_EQ(cancel.code, 0) << cancel.output;
  EXPECT_TRUE(contains(cancel.output, "cancelled Slurm job " + job + " (1 tasks queued or running)")) << cancel.output;
  const std::string log = dir / ("r/slurm/cancel/logs/" + job + "_0.out");
  ASSERT_TRUE(wait_until([&] { return contains(read_file(log), "run " + run + " interrupted:"); }, 60))
      << read_file(log);
  EXPECT_TRUE(contains(read_file(log), "not requeued: the sweep was cancelled")) << read_file(log);
  ASSERT_TRUE(poll_slurm([&] { return all_ended(job, 1); }, 60));
  EXPECT_EQ(task_states(job, 1), std::vector<std::string>{"CANCELLED"});

  const Result status = run_hcx("status --sweep cancel --db r/hcx.db", dir.path().string());
  EXPECT_TRUE(contains(status.output, "interrupted")) << status.output;
  EXPECT_TRUE(contains(status.output, "CANCELLED " + job + "_0")) << status.output;
  const Result plan = run_hcx("sweep exp.json --executor slurm --db r/hcx.db --dry-run", dir.path().string());
  EXPECT_TRUE(contains(plan.output, "resume")) << plan.output;
}

TEST_F(SlurmCluster, RefusedSubmissionShowsSlurmsMessageAndRecordsNothing) {
  TempDir dir;
  write_file(dir / "exp.json", sweep_file("refused", 30, kThreeVariants));
  const Result r =
      run_hcx("sweep exp.json --executor slurm --db r/hcx.db --partition no_such_partition", dir.path().string());
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "Slurm refused the submission")) << r.output;
  EXPECT_TRUE(contains(r.output, "nvalid partition")) << r.output;  // sbatch's own words
  EXPECT_FALSE(std::filesystem::exists(dir / "r/slurm/refused/submissions.tsv"));
}

// ---- errors that need no cluster ---------------------------------------------

TEST(SlurmCli, NoSbatchOnPathFlagsWithoutSlurmAndBadValues) {
  TempDir dir;
  write_file(dir / "exp.json", sweep_file("nosbatch", 30, kThreeVariants));
  const std::string hcx = std::string("cd '") + dir.path().string() + "' && ";
  Result r = shell(hcx + "PATH=/nonexistent " + HCX_BINARY + " sweep exp.json --executor slurm --db r/hcx.db");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "sbatch: not found on PATH")) << r.output;

  r = run_hcx("sweep exp.json --wait --db r/hcx.db", dir.path().string());
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "--wait: needs --executor slurm")) << r.output;
  r = run_hcx("sweep exp.json --executor slurm --time 4h --db r/hcx.db", dir.path().string());
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "--time: expected minutes")) << r.output;
}

TEST(SlurmCli, TaskRefusesAManifestRunMismatch) {
  TempDir dir;
  write_file(dir / "exp.json", sweep_file("mismatch", 30, kThreeVariants));
  // Registers the runs, then fails to submit: a database with three pending runs.
  const std::string cd = std::string("cd '") + dir.path().string() + "' && ";
  shell(cd + "PATH=/nonexistent " + HCX_BINARY + " sweep exp.json --executor slurm --db r/hcx.db");
  const auto ids = rows(dir / "r/hcx.db", "SELECT run_id FROM sweep_runs ORDER BY position");
  ASSERT_EQ(ids.size(), 3u);
  nlohmann::json m = {{"format", "hcx-slurm-manifest/1"},
                      {"sweep", "mismatch"},
                      {"db", dir / "r/hcx.db"},
                      {"results", dir / "r"},
                      {"runs",
                       {{{"index", 0}, {"run_id", ids[0]}, {"name", "a"}},
                        {{"index", 1}, {"run_id", "0123456789abcdef"}, {"name", "b"}}}}};
  write_file(dir / "manifest.json", m.dump());
  const std::string task = std::string(HCX_BINARY) + " slurm-task --manifest " + (dir / "manifest.json").string();

  Result r = shell(cd + "env -u SLURM_ARRAY_TASK_ID " + task);
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "SLURM_ARRAY_TASK_ID is not set")) << r.output;
  r = shell(cd + "SLURM_ARRAY_TASK_ID=5 " + task);
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "manifest/run mismatch: no array index 5")) << r.output;
  r = shell(cd + "SLURM_ARRAY_TASK_ID=1 " + task);
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "manifest/run mismatch: index 1 names run 0123456789abcdef, whose shard " +
                                     (dir / "r/shards/0123456789abcdef.db").string() + " does not exist"))
      << r.output;
  store::open_shard(dir / ("r/shards/" + ids[0] + ".db"));  // a shard without the run
  r = shell(cd + "SLURM_ARRAY_TASK_ID=0 " + task);
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "manifest/run mismatch: index 0 names run " + ids[0] + ", which its shard " +
                                     (dir / ("r/shards/" + ids[0] + ".db")).string() + " does not hold"))
      << r.output;
}

// The coordinator prepared the run's shard; then, as on a compute node that
// cannot use it, the main database is no database at all. The task and the
// run it starts read and write only the shard, which stays in the rollback
// journal.
TEST(SlurmCli, TaskTrainsFromItsShardAloneAndNeverOpensTheMainDatabase) {
  TempDir dir;
  write_file(dir / "exp.json", sweep_file("alone", 12, R"({"kind": "pre_norm"})"));
  const std::string cd = std::string("cd '") + dir.path().string() + "' && ";
  shell(cd + "PATH=/nonexistent " + HCX_BINARY + " sweep exp.json --executor slurm --db r/hcx.db");
  const auto ids = rows(dir / "r/hcx.db", "SELECT run_id FROM sweep_runs");
  ASSERT_EQ(ids.size(), 1u);
  {
    store::Db main = store::open_db(dir / "r/hcx.db");
    store::prepare_shard(main, dir / "r", ids[0]);
  }
  for (const char* f : {"r/hcx.db-wal", "r/hcx.db-shm"}) std::filesystem::remove(dir / f);
  write_file(dir / "r/hcx.db", "not a database\n");
  const nlohmann::json m = {{"format", "hcx-slurm-manifest/1"},
                            {"sweep", "alone"},
                            {"db", dir / "r/hcx.db"},
                            {"results", dir / "r"},
                            {"runs", {{{"index", 0}, {"run_id", ids[0]}, {"name", "a"}}}}};
  write_file(dir / "manifest.json", m.dump());

  const Result r = shell(cd + "env -u SLURM_JOB_ID SLURM_ARRAY_TASK_ID=0 " + HCX_BINARY + " slurm-task --manifest " +
                         (dir / "manifest.json").string());
  ASSERT_EQ(r.code, 0) << r.output << read_file(dir / ("r/logs/" + ids[0] + ".log"));
  EXPECT_TRUE(contains(r.output, "run " + ids[0] + " ended: exit 0")) << r.output;
  const std::string shard = dir / ("r/shards/" + ids[0] + ".db");
  EXPECT_EQ(query1(shard, "SELECT status || ' ' || step FROM runs"), "completed 12");
  EXPECT_EQ(query1(shard, "PRAGMA journal_mode"), "delete");
  EXPECT_EQ(read_file(dir / "r/hcx.db"), "not a database\n");
  for (const char* f : {"r/hcx.db-wal", "r/hcx.db-shm", "r/hcx.db-journal"})
    EXPECT_FALSE(std::filesystem::exists(dir / f)) << f;
}

}  // namespace
}  // namespace hcx::test
