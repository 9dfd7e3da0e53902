// Run outcomes and liveness of running rows (see outcome.h).
#include "hcx/exec/outcome.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

namespace hcx::exec {

bool hcx_process_alive(int64_t pid) {
  if (pid <= 0) return false;
  if (kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  if (!in) return true;  // no /proc: existence is all we know
  const std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return cmdline.empty() || cmdline.find("hcx") != std::string::npos;  // empty: a zombie or a kernel thread
}

std::string process_start_token(int64_t pid) {
  if (pid <= 0) return "";
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');  // the command name may hold spaces and parentheses
  if (paren == std::string::npos) return "";
  std::istringstream fields(stat.substr(paren + 1));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {  // fields 3.. follow the name; 22 is starttime
    if (i == 22) return field;
  }
  return "";
}

std::string this_host() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

bool running_row_alive(const store::RunState& row, const std::string& host) {
  if (row.host.empty() || row.host == host) {
    if (!row.pid) return false;
    if (!row.proc_start.empty()) return process_start_token(*row.pid) == row.proc_start;
    return hcx_process_alive(*row.pid);
  }
  return row.heartbeat_age_s && *row.heartbeat_age_s < kForeignStaleAfterS;
}

std::string describe_exit(const JobResult& r) {
  if (!r.spawn_error.empty()) return "could not start: " + r.spawn_error;
  if (r.stalled_s > 0)
    return "killed by the sweep: no heartbeat for " + std::to_string(static_cast<int64_t>(r.stalled_s)) +
           " s (hung; --heartbeat-timeout)";
  if (r.signal) {
    std::string s = "killed by signal " + std::to_string(r.signal);
    const char* name = strsignal(r.signal);
    if (r.signal == SIGKILL) {
      s += " (SIGKILL: out of memory?)";
    } else if (name) {
      s += std::string(" (") + name + ")";
    }
    return s;
  }
  switch (r.exit_code) {
    case 2: return "exit 2 (bad input)";
    case 3: return "exit 3 (interrupted)";
    case 4: return "exit 4 (another live process trains this run)";
    case 127: return "exit 127 (could not execute hcx run)";
    default: return "exit " + std::to_string(r.exit_code);
  }
}

Outcome decide_outcome(const JobResult& r, const std::optional<store::RunState>& row, const std::string& log_tail) {
  // What the exit says.
  RunStatus expected = RunStatus::kFailed;
  if (r.signal) {
    const bool stopped = r.kill_sent || (r.stop_sent && (r.signal == SIGTERM || r.signal == SIGINT));
    expected = stopped ? RunStatus::kInterrupted : RunStatus::kFailed;
  } else if (r.exit_code == 0) {
    expected = RunStatus::kCompleted;
  } else if (r.exit_code == 3) {
    expected = RunStatus::kInterrupted;
  }
  auto agrees = [&](RunStatus status) {
    return status == expected || (expected == RunStatus::kFailed && status == RunStatus::kDiverged);
  };

  Outcome o;
  if (!row) {  // the run vanished from the database: nothing to write to
    o.status = expected;
    return o;
  }
  const bool running = row->status == RunStatus::kRunning;
  if (running && row->pid && *row->pid != r.pid) {
    o.status = RunStatus::kRunning;  // another process holds it (e.g. a second sweep)
    return o;
  }
  if (!running && agrees(row->status)) {
    o.status = row->status;  // the child recorded its end itself
    return o;
  }
  o.write = true;
  o.status = expected;
  if (expected == RunStatus::kCompleted) {
    // Exit 0 without a record of the run: not a result to trust.
    o.status = RunStatus::kFailed;
    o.error = "hcx run exited 0 but did not record the run as completed";
  } else if (expected == RunStatus::kFailed) {
    o.error = "hcx run " + describe_exit(r);
  } else if (expected == RunStatus::kInterrupted) {
    o.error = "stopped by the sweep (" + describe_exit(r) + ")";
  }
  if (o.status == RunStatus::kFailed && !log_tail.empty()) o.error += "\n" + log_tail;
  return o;
}

}  // namespace hcx::exec
