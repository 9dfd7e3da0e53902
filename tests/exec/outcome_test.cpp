// Outcomes of children: what the sweep reports and when it writes the row.
#include "hcx/exec/outcome.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "process_util.h"

namespace hcx::exec {
namespace {

JobResult exited(int code, int pid = 100) {
  JobResult r;
  r.exit_code = code;
  r.pid = pid;
  return r;
}

JobResult signaled(int sig, bool stop_sent = false, bool kill_sent = false) {
  JobResult r;
  r.signal = sig;
  r.pid = 100;
  r.stop_sent = stop_sent;
  r.kill_sent = kill_sent;
  return r;
}

store::RunState row(const std::string& status, std::optional<int64_t> pid = 100) {
  store::RunState s;
  s.id = "r";
  s.status = parse_run_status(status).value();
  s.pid = pid;
  return s;
}

TEST(DecideOutcome, CaseTable) {
  const struct {
    const char* name;
    JobResult result;
    std::optional<store::RunState> row;
    const char* status;
    bool write;
    const char* error_prefix;
  } cases[] = {
      {"completed and recorded", exited(0), row("completed"), "completed", false, ""},
      {"diverged and recorded", exited(1), row("diverged"), "diverged", false, ""},
      {"failed and recorded", exited(1), row("failed"), "failed", false, ""},
      {"interrupted and recorded", exited(3), row("interrupted"), "interrupted", false, ""},
      {"exit 1 without a record", exited(1), row("running"), "failed", true, "hcx run exit 1\nTAIL"},
      {"bad input before starting", exited(2), row("pending", std::nullopt), "failed", true, "hcx run exit 2 (bad input)"},
      {"crash at startup of a resume", exited(1), row("interrupted"), "failed", true, "hcx run exit 1"},
      {"binary missing", exited(127), row("pending", std::nullopt), "failed", true, "hcx run exit 127"},
      {"OOM kill", signaled(SIGKILL), row("running"), "failed", true,
       "hcx run killed by signal 9 (SIGKILL: out of memory?)"},
      {"segfault", signaled(SIGSEGV), row("running"), "failed", true, "hcx run killed by signal 11"},
      {"killed after a second stop request", signaled(SIGKILL, true, true), row("running"), "interrupted", true,
       "stopped by the sweep"},
      {"stop request before its handler was set", signaled(SIGTERM, true), row("running"), "interrupted", true,
       "stopped by the sweep"},
      {"SIGTERM from elsewhere", signaled(SIGTERM), row("running"), "failed", true, "hcx run killed by signal 15"},
      {"exit 0 without a record", exited(0), row("running"), "failed", true,
       "hcx run exited 0 but did not record the run as completed"},
      {"another process holds the run", exited(1), row("running", 999), "running", false, ""},
      {"run missing from the database", exited(0), std::nullopt, "completed", false, ""},
  };
  for (const auto& c : cases) {
    const Outcome o = decide_outcome(c.result, c.row, "TAIL");
    EXPECT_EQ(to_string(o.status), std::string(c.status)) << c.name;
    EXPECT_EQ(o.write, c.write) << c.name;
    EXPECT_EQ(o.error.substr(0, strlen(c.error_prefix)), c.error_prefix) << c.name << ": " << o.error;
    if (o.status == RunStatus::kFailed && o.write) {
      EXPECT_NE(o.error.find("\nTAIL"), std::string::npos) << c.name;
    }
  }
}

TEST(Liveness, ThisHostAsksTheProcessTable) {
  const pid_t hcx = test::start_sleeper("hcx-run-elsewhere");
  const pid_t other = test::start_sleeper("recycled-pid");
  store::RunState r = row("running", hcx);
  r.host = this_host();
  r.heartbeat_age_s = 1e6;  // the heartbeat does not matter on this host
  EXPECT_TRUE(running_row_alive(r, this_host()));
  r.pid = other;
  EXPECT_FALSE(running_row_alive(r, this_host())) << "a process that is not hcx holds the pid";
  test::stop_sleeper(hcx);
  test::stop_sleeper(other);
  r.pid = hcx;
  EXPECT_FALSE(running_row_alive(r, this_host()));
  r.pid.reset();
  EXPECT_FALSE(running_row_alive(r, this_host()));
}

// A row that records its trainer's start time: the pid alone, even of a
// process whose command line says hcx, is not enough (pids are reused).
TEST(Liveness, ThisHostComparesTheProcessStartTime) {
  const pid_t hcx = test::start_sleeper("hcx-run-elsewhere");
  const std::string start = process_start_token(hcx);
  ASSERT_FALSE(start.empty());
  EXPECT_EQ(process_start_token(hcx), start);  // stable
  EXPECT_NE(process_start_token(getpid()), "");
  store::RunState r = row("running", hcx);
  r.host = this_host();
  r.proc_start = start;
  EXPECT_TRUE(running_row_alive(r, this_host()));
  r.proc_start = "1";  // the same pid, another process
  EXPECT_FALSE(running_row_alive(r, this_host()));
  test::stop_sleeper(hcx);
  r.proc_start = start;
  EXPECT_FALSE(running_row_alive(r, this_host()));
  EXPECT_EQ(process_start_token(hcx), "");
}

TEST(Liveness, OtherHostsGoByHeartbeat) {
  store::RunState r = row("running", 1);
  r.host = "elsewhere-" + this_host();
  r.heartbeat_age_s = 30;
  EXPECT_TRUE(running_row_alive(r, this_host()));
  r.heartbeat_age_s = kForeignStaleAfterS + 1;
  EXPECT_FALSE(running_row_alive(r, this_host()));
  r.heartbeat_age_s.reset();
  EXPECT_FALSE(running_row_alive(r, this_host()));
}

TEST(Liveness, ProcessChecks) {
  EXPECT_FALSE(hcx_process_alive(0));
  EXPECT_FALSE(hcx_process_alive(-5));
  EXPECT_FALSE(hcx_process_alive((1 << 22) + 1));
}

TEST(DescribeExit, Words) {
  EXPECT_EQ(describe_exit(exited(3)), "exit 3 (interrupted)");
  EXPECT_EQ(describe_exit(exited(7)), "exit 7");
  JobResult r;
  r.spawn_error = "fork: out of memory";
  EXPECT_EQ(describe_exit(r), "could not start: fork: out of memory");
}

}  // namespace
}  // namespace hcx::exec
