// The local executor with shell-script children: slots, placement, crashes,
// stop requests. No hcx binary needed (end-to-end sweeps: tests/cli).
#include "hcx/exec/local_executor.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "common/files.h"
#include "common/temp_dir.h"
#include "hcx/exec/outcome.h"
#include "hcx/util/process.h"

namespace hcx::exec {
namespace {

namespace fs = std::filesystem;

using hcx::test::read_file;
using hcx::test::TempDir;

Job shell_job(const std::string& id, const std::string& script, const fs::path& dir) {
  Job job;
  job.run_id = id;
  job.name = id;
  job.command = {"/bin/sh", "-c", script, "sh"};  // the placement flags become "$@"
  job.log_path = dir / "logs" / (id + ".log");
  return job;
}

std::vector<Slot> cpu_slots(int n) {
  std::vector<Slot> slots(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    slots[static_cast<size_t>(i)].index = i;
    slots[static_cast<size_t>(i)].device = slots[static_cast<size_t>(i)].display = "cpu";
  }
  return slots;
}

// Records every event; optional hooks drive stop requests.
struct Recorder : ExecObserver {
  std::map<std::string, JobResult> results;
  std::map<std::string, Progress> last_progress;
  std::vector<std::string> order;  // "start:<id>" / "end:<id>"
  int now_running = 0, max_running = 0, stops = 0;
  std::function<void(const Job&, const Progress&)> on_progress;
  std::function<void()> on_stopping;

  void started(const Job& job, const std::string&, int pid) override {
    EXPECT_GT(pid, 0);
    order.push_back("start:" + job.run_id);
    max_running = std::max(max_running, ++now_running);
  }
  void progress(const Job& job, const Progress& p) override {
    last_progress[job.run_id] = p;
    if (on_progress) on_progress(job, p);
  }
  void finished(const Job& job, const JobResult& r) override {
    order.push_back("end:" + job.run_id);
    --now_running;
    results[job.run_id] = r;
  }
  void stopping(int) override {
    ++stops;
    if (on_stopping) on_stopping();
  }
};

TEST(LocalExecutor, RunsEveryJobAndNeverMoreThanTheSlots) {
  TempDir dir;
  std::vector<Job> jobs;
  for (int i = 0; i < 5; ++i)
    jobs.push_back(shell_job("j" + std::to_string(i),
                             "echo hcx-progress step=1/2 loss=3; echo hcx-progress step=2/2 loss=2." + std::to_string(i),
                             dir.path()));
  Recorder rec;
  const ExecSummary s = LocalExecutor(cpu_slots(2)).run(jobs, rec);
  EXPECT_EQ(s.started, 5u);
  EXPECT_EQ(s.finished, 5u);
  EXPECT_EQ(s.not_started, 0u);
  EXPECT_EQ(s.stop_signal, 0);
  EXPECT_EQ(rec.max_running, 2);
  ASSERT_EQ(rec.results.size(), 5u);
  for (const auto& [id, r] : rec.results) {
    EXPECT_EQ(r.exit_code, 0) << id;
    EXPECT_EQ(r.signal, 0) << id;
    EXPECT_FALSE(r.stop_sent);
  }
  // The final progress record of each job is seen, even for jobs that ended fast.
  EXPECT_EQ(rec.last_progress["j3"].step, 2);
  EXPECT_DOUBLE_EQ(rec.last_progress["j3"].loss, 2.3);
  // Jobs start in order.
  EXPECT_EQ(rec.order[0], "start:j0");
  EXPECT_EQ(rec.order[1], "start:j1");
}

TEST(LocalExecutor, ChildGetsPlacementFlagsEnvironmentAndAffinity) {
  TempDir dir;
  Slot gpu;
  gpu.device = "cuda";
  gpu.display = "cuda:1";
  gpu.cuda_visible = "7";
  gpu.threads = 3;
  Slot cpu;
  cpu.device = cpu.display = "cpu";
  cpu.threads = 1;
  cpu.cpus = {usable_cpus().back()};
  const std::string script =
      "echo \"args: $*\"; echo \"cuda=[$CUDA_VISIBLE_DEVICES] omp=$OMP_NUM_THREADS blas=$OPENBLAS_NUM_THREADS "
      "mkl=$MKL_NUM_THREADS spin=$GOMP_SPINCOUNT timeout=$OPENBLAS_THREAD_TIMEOUT\"; grep Cpus_allowed_list "
      "/proc/self/status; read x; echo "
      "\"stdin=[$x]\"";
  Recorder rec;
  const std::vector<Job> jobs = {shell_job("gpu", script, dir.path()), shell_job("cpu", script, dir.path())};
  LocalExecutor({gpu, cpu}).run(jobs, rec);
  const std::string g = read_file(dir.path() / "logs" / "gpu.log");
  EXPECT_NE(g.find("hcx sweep: start on cuda:1: /bin/sh -c"), std::string::npos) << g;
  EXPECT_NE(g.find("args: --device cuda --threads 3\n"), std::string::npos) << g;
  // hcx's OpenMP spin count and OpenBLAS timeout unless the sweep's own environment sets them (util/process.h)
  const std::string spin = std::getenv("GOMP_SPINCOUNT") != nullptr    ? std::getenv("GOMP_SPINCOUNT")
                           : std::getenv("OMP_WAIT_POLICY") != nullptr ? ""
                                                                       : util::kGompSpinCount;
  const std::string timeout = std::getenv("OPENBLAS_THREAD_TIMEOUT") != nullptr ? std::getenv("OPENBLAS_THREAD_TIMEOUT")
                                                                                : util::kOpenblasThreadTimeout;
  EXPECT_NE(g.find("cuda=[7] omp=3 blas=3 mkl=3 spin=" + spin + " timeout=" + timeout + "\n"), std::string::npos) << g;
  EXPECT_NE(g.find("stdin=[]"), std::string::npos) << g;
  const std::string c = read_file(dir.path() / "logs" / "cpu.log");
  EXPECT_NE(c.find("args: --device cpu --threads 1\n"), std::string::npos) << c;
  EXPECT_NE(c.find("cuda=[] omp=1"), std::string::npos) << c;
  EXPECT_NE(c.find("Cpus_allowed_list:\t" + std::to_string(cpu.cpus[0]) + "\n"), std::string::npos) << c;
  EXPECT_EQ(rec.results["gpu"].slot, "cuda:1");
  EXPECT_NE(g.find(" hcx sweep: exit 0 after "), std::string::npos) << g;
}

TEST(LocalExecutor, CrashesAndFailuresDoNotStopTheOthers) {
  TempDir dir;
  std::vector<Job> jobs = {
      shell_job("killed", "echo before; kill -9 $$", dir.path()),
      shell_job("failed", "echo boom >&2; exit 1", dir.path()),
      shell_job("ok", "exit 0", dir.path()),
      shell_job("missing", "", dir.path()),
  };
  jobs[3].command = {(dir.path() / "no-such-hcx").string(), "run"};
  Recorder rec;
  const ExecSummary s = LocalExecutor(cpu_slots(2)).run(jobs, rec);
  EXPECT_EQ(s.finished, 4u);
  EXPECT_EQ(rec.results["killed"].signal, SIGKILL);
  EXPECT_EQ(rec.results["killed"].exit_code, -1);
  EXPECT_EQ(rec.results["failed"].exit_code, 1);
  EXPECT_EQ(rec.results["ok"].exit_code, 0);
  EXPECT_EQ(rec.results["missing"].exit_code, 127);
  EXPECT_NE(read_file(dir.path() / "logs" / "missing.log").find("cannot execute"), std::string::npos);
  EXPECT_NE(read_file(dir.path() / "logs" / "failed.log").find("boom"), std::string::npos);
  EXPECT_NE(read_file(dir.path() / "logs" / "killed.log").find("hcx sweep: killed by signal 9 after "),
            std::string::npos);
}

TEST(LocalExecutor, LogsAreAppendedAcrossAttempts) {
  TempDir dir;
  Recorder rec;
  const std::vector<Job> jobs = {shell_job("a", "echo attempt", dir.path())};
  LocalExecutor(cpu_slots(1)).run(jobs, rec);
  LocalExecutor(cpu_slots(1)).run(jobs, rec);
  const std::string log = read_file(dir.path() / "logs" / "a.log");
  size_t headers = 0;
  for (size_t at = log.find("hcx sweep: start"); at != std::string::npos; at = log.find("hcx sweep: start", at + 1))
    ++headers;
  EXPECT_EQ(headers, 2u) << log;
}

// A child that checkpoints on SIGTERM: the trap is set before the first
// progress record, so the stop request below never arrives before it.
const char* kStoppable =
    "trap 'echo checkpoint; exit 3' TERM; echo hcx-progress step=1/100; while :; do sleep 0.05; done";

TEST(LocalExecutor, StopRequestStopsRunningJobsAndStartsNoMore) {
  TempDir dir;
  std::vector<Job> jobs;
  for (int i = 0; i < 3; ++i) jobs.push_back(shell_job("s" + std::to_string(i), kStoppable, dir.path()));
  Recorder rec;
  size_t ready = 0;
  rec.on_progress = [&](const Job&, const Progress&) {
    if (++ready == 2) LocalExecutor::request_stop(SIGTERM);
  };
  const ExecSummary s = LocalExecutor(cpu_slots(2)).run(jobs, rec);
  EXPECT_EQ(s.stop_signal, SIGTERM);
  EXPECT_EQ(s.started, 2u);
  EXPECT_EQ(s.not_started, 1u);
  EXPECT_EQ(rec.stops, 1);
  for (const char* id : {"s0", "s1"}) {
    EXPECT_EQ(rec.results[id].exit_code, 3) << id;
    EXPECT_TRUE(rec.results[id].stop_sent) << id;
    EXPECT_FALSE(rec.results[id].kill_sent) << id;
    EXPECT_NE(read_file(dir.path() / "logs" / (std::string(id) + ".log")).find("checkpoint"), std::string::npos);
  }
  EXPECT_FALSE(rec.results.count("s2"));
}

TEST(LocalExecutor, SecondStopRequestKills) {
  TempDir dir;
  const std::vector<Job> jobs = {
      shell_job("stubborn", "trap '' TERM INT; echo hcx-progress step=1/9; while :; do sleep 0.05; done", dir.path())};
  Recorder rec;
  rec.on_progress = [](const Job&, const Progress&) { LocalExecutor::request_stop(SIGINT); };
  rec.on_stopping = [] { LocalExecutor::request_stop(SIGINT); };
  const ExecSummary s = LocalExecutor(cpu_slots(1)).run(jobs, rec);
  EXPECT_EQ(s.stop_signal, SIGINT);
  EXPECT_EQ(rec.results["stubborn"].signal, SIGKILL);
  EXPECT_TRUE(rec.results["stubborn"].kill_sent);
}

// A hung child (its heartbeat stopped) is killed once past the timeout while
// the other job, whose heartbeat is fresh, runs to its end.
TEST(LocalExecutor, JobWithoutHeartbeatPastTheTimeoutIsKilledAndTheOthersGoOn) {
  TempDir dir;
  std::vector<Job> jobs = {shell_job("hung", "while :; do sleep 0.05; done", dir.path()),
                           shell_job("alive", "sleep 1.5", dir.path())};
  std::map<int, std::string> asked;  // pid -> job
  jobs[0].heartbeat_age = [&](int pid) -> std::optional<double> {
    asked[pid] = "hung";
    return 9.0;
  };
  jobs[1].heartbeat_age = [&](int pid) -> std::optional<double> {
    asked[pid] = "alive";
    return 0.1;
  };
  LocalOptions o;
  o.heartbeat_timeout_s = 5;
  o.heartbeat_check_ms = 50;
  Recorder rec;
  LocalExecutor(cpu_slots(2), o).run(jobs, rec);
  EXPECT_EQ(rec.results["hung"].signal, SIGKILL);
  EXPECT_EQ(rec.results["hung"].stalled_s, 9.0);
  EXPECT_FALSE(rec.results["hung"].kill_sent);
  EXPECT_EQ(describe_exit(rec.results["hung"]), "killed by the sweep: no heartbeat for 9 s (hung; --heartbeat-timeout)");
  EXPECT_EQ(rec.results["alive"].exit_code, 0);
  EXPECT_EQ(rec.results["alive"].stalled_s, 0.0);
  EXPECT_EQ(asked.size(), 2u);  // asked with each child's own pid
  EXPECT_EQ(asked.count(rec.results["hung"].pid), 1u);
}

TEST(LocalExecutor, RealSignalsAreHandledAndHandlersRestored) {
  TempDir dir;
  struct sigaction before {};
  sigaction(SIGTERM, nullptr, &before);
  const std::vector<Job> jobs = {shell_job("t", kStoppable, dir.path())};
  Recorder rec;
  rec.on_progress = [](const Job&, const Progress&) { kill(getpid(), SIGTERM); };  // as `kill <sweep pid>` would
  const ExecSummary s = LocalExecutor(cpu_slots(1)).run(jobs, rec);
  EXPECT_EQ(s.stop_signal, SIGTERM);
  EXPECT_EQ(rec.results["t"].exit_code, 3);
  struct sigaction after {};
  sigaction(SIGTERM, nullptr, &after);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
}

TEST(LocalExecutor, EmptyJobListReturnsAtOnce) {
  Recorder rec;
  const ExecSummary s = LocalExecutor(cpu_slots(2)).run({}, rec);
  EXPECT_EQ(s.started, 0u);
}

}  // namespace
}  // namespace hcx::exec
