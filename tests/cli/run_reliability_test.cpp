// hcx run's reliability guarantees, end to end on the real binary: a new
// database never adopts an old checkpoint, a truncated checkpoint falls back
// to the previous one, a full disk ends a run as interrupted with its earlier
// checkpoint intact, one trainer per run (atomic claim, pid + start time,
// rows left alone on exit 4), and a stop during setup ends the process at once.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli_util.h"
#include "hcx/exec/outcome.h"

namespace hcx::test {
namespace {

namespace fs = std::filesystem;

// 40 steps, a checkpoint every 5, a flush every step.
constexpr const char* kRun = R"({
  "model": {"d_model": 16, "n_layers": 2, "n_heads": 2, "seq_len": 24, "vocab_size": 64},
  "residual": {"kind": "hc", "n": 2},
  "data": {"synthetic_tokens": 20000},
  "train": {"steps": 40, "batch_size": 4, "lr": 3e-3, "warmup_steps": 4, "log_every": 1,
            "checkpoint_every": 5, "threads": 1},
  "eval": {"every": 10, "batches": 2}
})";

std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// The one run's checkpoint folder under <dir>/r/checkpoints.
fs::path checkpoint_dir(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir / "r/checkpoints")) return e.path();
  return {};
}

void remove_db(const fs::path& db) {
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix);
}

int64_t step_of(const std::string& db) {
  try {
    return fs::exists(db) ? std::atoll(query1(db, "SELECT coalesce(max(step), 0) FROM runs").c_str()) : 0;
  } catch (const std::exception&) {
    return 0;  // the schema is being created
  }
}

// Deleting the database to start over: the checkpoint beside it belongs to
// the old one; the new database gets the whole curve, not a "completed" run
// without rows.
TEST(RunReliability, FreshDatabaseDoesNotAdoptAnOldCheckpoint) {
  TempDir dir;
  write_file(dir / "run.json", kRun);
  ASSERT_EQ(run_hcx("run run.json --db r/hcx.db", dir.path().string()).code, 0);
  const std::string db = dir / "r/hcx.db";
  const auto first = train_losses(db);
  ASSERT_EQ(first.size(), 40u);
  remove_db(db);
  const Result again = run_hcx("run run.json --db r/hcx.db", dir.path().string());
  ASSERT_EQ(again.code, 0) << again.output;
  EXPECT_EQ(again.output.find("resumed from the checkpoint"), std::string::npos) << again.output;
  EXPECT_NE(again.output.find("not resumed: it belongs to another database"), std::string::npos) << again.output;
  EXPECT_EQ(train_losses(db), first);  // trained again, value for value
  EXPECT_EQ(query1(db, "SELECT status || ' ' || step FROM runs"), "completed 40");
  EXPECT_TRUE(fs::exists(checkpoint_dir(dir.path()) / "set-aside" / "step-00000040.pt"));
}

// Killed mid-run (past step 17: checkpoints of steps 10 and 15 or later),
// its newest checkpoint cut in half: the resumed run starts from the previous
// checkpoint, says so, and its curve is the uninterrupted one.
TEST(RunReliability, TruncatedLatestCheckpointOfAKilledRunFallsBackToThePreviousOne) {
  TempDir ref, dir;
  write_file(ref / "run.json", kRun);
  write_file(dir / "run.json", kRun);
  ASSERT_EQ(run_hcx("run run.json --db r/hcx.db", ref.path().string()).code, 0);
  const std::string db = dir / "r/hcx.db";
  const pid_t pid = spawn_hcx({"run", "run.json", "--db", "r/hcx.db"}, dir / "first.log", dir.path().string());
  ASSERT_TRUE(wait_until([&] { return step_of(db) >= 17; }, 120));
  ::kill(pid, SIGKILL);
  ASSERT_EQ(wait_exit(pid), 128 + SIGKILL);
  // The two kept checkpoints (the kill may land anywhere, even mid-write: a
  // writer's temporary file is not a checkpoint).
  const fs::path ckpts = checkpoint_dir(dir.path());
  std::vector<std::string> kept;
  for (const auto& name : files_in(ckpts))
    if (name.rfind("step-", 0) == 0) kept.push_back(name);
  ASSERT_EQ(kept.size(), 2u);
  const std::string newest = kept[1];
  const int previous = std::stoi(kept[0].substr(5, 8));
  fs::resize_file(ckpts / newest, fs::file_size(ckpts / newest) / 2);
  const Result resumed = run_hcx("run run.json --db r/hcx.db", dir.path().string());
  ASSERT_EQ(resumed.code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find(newest + ": cannot read checkpoint"), std::string::npos) << resumed.output;
  EXPECT_NE(resumed.output.find("falling back to the previous checkpoint"), std::string::npos) << resumed.output;
  EXPECT_NE(resumed.output.find("resumed from the checkpoint at step " + std::to_string(previous) + " of 40"),
            std::string::npos)
      << resumed.output;
  EXPECT_EQ(train_losses(db), train_losses(ref / "r/hcx.db"));
  EXPECT_EQ(files_in(ckpts), (std::vector<std::string>{"step-00000040.pt"}));  // completed: the final one only
}

// A full disk: the checkpoint folder on a small tmpfs (a private mount
// namespace; root only) that holds two checkpoints and not a third.
TEST(RunReliability, NoSpaceForACheckpointEndsInterruptedAndKeepsTheEarlierOnes) {
  TempDir dir;
  write_file(dir / "run.json", kRun);
  ASSERT_EQ(run_hcx("run run.json --db size/hcx.db", dir.path().string()).code, 0);
  uintmax_t bytes = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir / "size/checkpoints"))
    if (e.is_regular_file()) bytes = e.file_size();
  ASSERT_GT(bytes, 0u);
  const uintmax_t tmpfs_kib = (bytes * 5 / 2) / 1024 + 1;  // two checkpoints and a half
  const std::string script = "mkdir -p ck && mount -t tmpfs -o size=" + std::to_string(tmpfs_kib) +
                             "k tmpfs ck || exit 77; " + HCX_BINARY +
                             " run run.json --db r/hcx.db --results ck; echo \"exit=$?\"; "
                             "ls -A ck/checkpoints/*/";
  const auto [code, out] = capture("cd " + dir.path().string() + " && unshare -m sh -c '" + script + "' 2>&1");
  if (code == 77) GTEST_SKIP() << "cannot mount a tmpfs here (needs root): " << out;
  EXPECT_NE(out.find("exit=3"), std::string::npos) << out;  // interrupted
  EXPECT_NE(out.find("cannot write checkpoint: no space left on"), std::string::npos) << out;
  EXPECT_NE(out.find("\nstep-00000005.pt\nstep-00000010.pt\n"), std::string::npos) << out;  // intact, no temp file
  EXPECT_EQ(out.find(".tmp."), std::string::npos) << out;
  const std::string db = dir / "r/hcx.db";
  EXPECT_EQ(query1(db, "SELECT status || ' ' || step FROM runs"), "interrupted 15");
  EXPECT_NE(query1(db, "SELECT error FROM runs").find("the checkpoint step-00000010.pt is kept"), std::string::npos);
}

// Processes racing for one run (the claim's check and write held apart by a
// test-only pause): exactly one trains, the others exit 4, one attempt, one curve.
TEST(RunReliability, RacingProcessesTrainARunExactlyOnce) {
  TempDir dir;
  write_file(dir / "run.json", kRun);
  ::setenv("HCX_TEST_CLAIM_DELAY_MS", "400", 1);
  std::vector<pid_t> pids;
  for (int i = 0; i < 4; ++i)
    pids.push_back(spawn_hcx({"run", "run.json", "--db", "r/hcx.db"}, dir / ("p" + std::to_string(i) + ".log"),
                             dir.path().string()));
  ::unsetenv("HCX_TEST_CLAIM_DELAY_MS");
  std::map<int, int> codes;
  for (pid_t p : pids) ++codes[wait_exit(p)];
  EXPECT_EQ(codes, (std::map<int, int>{{0, 1}, {4, 3}}));
  const std::string db = dir / "r/hcx.db";
  EXPECT_EQ(query1(db, "SELECT status || ' ' || attempt FROM runs"), "completed 1");
  const auto curve = train_losses(db);
  ASSERT_EQ(curve.size(), 40u);
  for (size_t i = 0; i < curve.size(); ++i) EXPECT_EQ(curve[i].first, static_cast<int64_t>(i + 1));
}

// Every column of the run's row, as one text.
std::string row_of(const std::string& db) {
  return query1(db, "SELECT printf('%s|%s|%s|%s|%s|%s|%s|%s|%s', status, pid, proc_start, attempt, host, "
                    "heartbeat_at, updated_at, revision, config_json) FROM runs");
}

// The run's row made 'running' under process `pid` started at `start`, on this host.
void hold(const std::string& db, pid_t pid, const std::string& start) {
  SQLite::Database d(db, SQLite::OPEN_READWRITE);
  d.exec("UPDATE runs SET status = 'running', pid = " + std::to_string(pid) + ", proc_start = '" + start +
         "', host = '" + exec::this_host() + "'");
}

TEST(RunReliability, ExitFourChangesNothingAndFreshChecksOwnershipFirst) {
  TempDir dir;
  write_file(dir / "run.json", kRun);
  ASSERT_EQ(run_hcx("run run.json --db r/hcx.db -s train.steps=12", dir.path().string()).code, 0);
  const std::string db = dir / "r/hcx.db";
  hold(db, ::getpid(), exec::process_start_token(::getpid()));  // this test process: alive
  const std::string before = row_of(db);
  const auto ckpts = files_in(checkpoint_dir(dir.path()));
  for (const char* extra : {"", " --fresh"}) {
    const Result r = run_hcx(std::string("run run.json --db r/hcx.db -s train.steps=12") + extra, dir.path().string());
    EXPECT_EQ(r.code, 4) << extra << r.output;
    EXPECT_NE(r.output.find("is being trained by pid " + std::to_string(::getpid())), std::string::npos) << r.output;
    EXPECT_EQ(row_of(db), before) << extra;
    EXPECT_EQ(files_in(checkpoint_dir(dir.path())), ckpts) << extra;
  }
}

// A pid that now belongs to another process (even one whose command line
// says "hcx") with another start time is not the run's trainer.
TEST(RunReliability, ReusedPidIsNotALiveRun) {
  TempDir dir;
  write_file(dir / "run.json", kRun);
  ASSERT_EQ(run_hcx("run run.json --db r/hcx.db -s train.steps=12", dir.path().string()).code, 0);
  const std::string db = dir / "r/hcx.db";
  const pid_t imposter = spawn({"sh", "-c", "exec -a hcx-imposter sleep 60"});
  ASSERT_TRUE(wait_until([&] { return exec::hcx_process_alive(imposter); }, 10));
  hold(db, imposter, "1");  // started at tick 1 of the boot: not this process
  const Result r = run_hcx("run run.json --db r/hcx.db -s train.steps=12 --fresh", dir.path().string());
  ::kill(imposter, SIGKILL);
  wait_exit(imposter);
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(query1(db, "SELECT status || ' ' || attempt FROM runs"), "completed 2");
}

// Far beyond the machine: refused in a moment (validation's bounds, then the
// memory estimate), exit 2 naming the keys, nothing written, nothing allocated.
TEST(RunReliability, SizesBeyondTheMachineAreRefusedInAMomentWritingNothing) {
  TempDir dir;
  write_file(dir / "run.json", kRun);
  const struct {
    const char* overrides;
    const char* message;
  } cases[] = {
      {"-s model.n_layers=100000", "model.n_layers: expected an integer <= 1024, got 100000"},
      {"-s model.vocab_size=1e9", "model.vocab_size: expected an integer <= 4194304, got 1000000000"},
      {"-s train.batch_size=1e8", "train.batch_size: expected an integer <= 1048576, got 100000000"},
      {"-s model.n_layers=1000 -s model.d_model=8192 -s model.n_heads=64",
       "model.n_layers=1000, model.d_model=8192: this run needs ~"},
      {"-s train.batch_size=100000 -s model.seq_len=8192",
       "train.batch_size=100000, model.seq_len=8192, model.n_layers=2: this run needs ~"},
  };
  for (const auto& c : cases) {
    const auto start = std::chrono::steady_clock::now();
    const Result r = run_hcx(std::string("run run.json --db r/hcx.db ") + c.overrides, dir.path().string());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(r.code, 2) << c.overrides << ": " << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << c.overrides << ": " << r.output;
    EXPECT_EQ(r.output.find("Exception raised from"), std::string::npos) << r.output;  // no LibTorch trace
    EXPECT_LT(seconds, 10.0) << c.overrides;
    if (fs::exists(dir / "r/hcx.db")) {
      EXPECT_EQ(query1(dir / "r/hcx.db", "SELECT count(*) FROM runs"), "0");
    }
  }
}

// Setup (here: generating 200 M synthetic tokens, several seconds) ignores
// no signal: nothing to checkpoint yet, so the process records the run as
// interrupted and exits at once.
TEST(RunReliability, SigtermDuringSetupEndsTheProcessAtOnceAsInterrupted) {
  TempDir dir;
  write_file(dir / "run.json", R"({"model": {"d_model": 16, "n_layers": 1, "n_heads": 2, "seq_len": 16},
      "data": {"synthetic_tokens": 200000000}, "train": {"steps": 2, "batch_size": 2}})");
  const std::string db = dir / "r/hcx.db";
  const pid_t pid = spawn_hcx({"run", "run.json", "--db", "r/hcx.db"}, dir / "run.log", dir.path().string());
  ASSERT_TRUE(wait_until([&] {
    try {
      return fs::exists(db) && query1(db, "SELECT status FROM runs") == "running";
    } catch (const std::exception&) {
      return false;
    }
  }, 60));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto sent = std::chrono::steady_clock::now();
  ::kill(pid, SIGTERM);
  const int code = wait_exit(pid);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
  EXPECT_EQ(code, 3);
  EXPECT_LT(seconds, 2.0) << "setup went on after SIGTERM";
  EXPECT_EQ(query1(db, "SELECT status || ' ' || step FROM runs"), "interrupted 0");
  EXPECT_NE(query1(db, "SELECT error FROM runs").find("before training started"), std::string::npos);
}

// Two stop signals in quick succession (Slurm's warning, then its SIGTERM),
// at whatever point the first left the run: always exit 3 with the run
// recorded interrupted, never a crash of the exiting process.
TEST(RunReliability, SecondSignalSoonAfterTheFirstExitsThreeAndRecordsInterrupted) {
  for (int delay_ms : {0, 10, 40, 120}) {
    TempDir dir;
    write_file(dir / "run.json", kRun);
    const std::string db = dir / "r/hcx.db";
    const pid_t pid = spawn_hcx({"run", "run.json", "--db", "r/hcx.db", "-s", "train.steps=5000"}, dir / "run.log",
                                dir.path().string());
    ASSERT_TRUE(wait_until([&] { return step_of(db) >= 5; }, 120));
    ::kill(pid, SIGUSR1);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ::kill(pid, SIGTERM);
    EXPECT_EQ(wait_exit(pid), 3) << delay_ms << " ms apart";
    EXPECT_EQ(query1(db, "SELECT status FROM runs"), "interrupted") << delay_ms << " ms apart";
  }
}

}  // namespace
}  // namespace hcx::test
