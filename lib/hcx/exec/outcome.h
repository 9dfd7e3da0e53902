// What became of a run: from a child's exit and the run's database row to
// the status the sweep reports and, when the child could not record it, the
// row the sweep writes. Also whether a 'running' row's process is alive.
// Torch-free; the decisions are pure functions, testable without processes.
#pragma once

#include <optional>
#include <string>

#include "hcx/exec/executor.h"
#include "hcx/store/runs.h"

namespace hcx::exec {

// A row on another host whose heartbeat is older than this is taken over: we
// cannot see that process, and `hcx run` heartbeats every log interval.
constexpr double kForeignStaleAfterS = 15 * 60;

// True when process `pid` exists on this machine and runs an hcx binary
// (its /proc cmdline mentions "hcx"; when /proc cannot be read, existence
// alone counts). The fallback for rows that record no process start time.
bool hcx_process_alive(int64_t pid);

// The start time of process `pid` (field 22 of /proc/<pid>/stat, clock ticks
// since boot, as text), or "" when there is no such process or no /proc.
// With the pid it identifies one process: a pid reused later has another.
std::string process_start_token(int64_t pid);

// Whether the process holding the 'running' row `row` may still be alive:
// on `this_host`, its pid must run and, when the row records its start time
// (proc_start), have that start time, so a reused pid is not a live run
// (rows without it: hcx_process_alive); on another host, its heartbeat must
// be younger than kForeignStaleAfterS. A row of this host whose process is
// gone is dead whatever its heartbeat: the process can no longer write it.
bool running_row_alive(const store::RunState& row, const std::string& this_host);

// This machine's host name, as store::start_run records it.
std::string this_host();

struct Outcome {
  RunStatus status = RunStatus::kFailed;  // or kRunning: held by another process
  bool write = false;   // the sweep must record `status` and `error` itself (finish_run)
  std::string error;    // why, for failed runs the sweep records: "<reason>\n<log tail>"
};

// Decides the outcome of a run whose child ended with `r`; `row` is the run's
// row read after the child ended. Exit codes of `hcx run`: 0 completed,
// 1 failed or diverged (the child records which), 2 bad input, 3 interrupted;
// 127 the binary could not be executed. A child killed after a stop request
// is interrupted (it resumes from its last checkpoint); killed otherwise
// (e.g. SIGKILL by the OOM killer) it failed. The child's own terminal record
// wins when it matches the exit; a row still 'running' under the child's pid,
// or one that contradicts the exit, is overwritten (exit 0 without a
// 'completed' record counts as failed: no result to trust); a row 'running'
// under another pid belongs to someone else and is left alone.
Outcome decide_outcome(const JobResult& r, const std::optional<store::RunState>& row, const std::string& log_tail);

// "exit 1", "killed by signal 9 (SIGKILL: out of memory?)", ...
std::string describe_exit(const JobResult& r);

}  // namespace hcx::exec
