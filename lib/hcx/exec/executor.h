// The executor interface: a list of jobs (one `hcx run --run-id ...` each) in,
// every job run to its end, events out. The local executor (local_executor.h)
// runs them as child processes on this machine's slots; a Slurm executor
// (slurm/executor.h) implements the same interface with array jobs. The
// coordinator (sweep/sweep_command.h) turns the events into database rows and a display.
// Torch-free.
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace hcx::exec {

// One unit of work. The executor adds the placement flags (`--device D
// --threads T` locally) to `command`, and the environment that goes with them.
struct Job {
  std::string run_id;
  std::string name;                   // for people: "DHC×2 seed=1"
  std::vector<std::string> command;   // argv: {"/path/hcx", "run", "--run-id", id, "--db", path}
  std::filesystem::path log_path;     // stdout and stderr of the job, appended
  int64_t total_steps = 0;            // for the display before the first progress line
  // Seconds since the job's run last heartbeat, asked with the child's pid:
  // nullopt while the run is not (yet) held by that process or the age is
  // unknown; empty: not watched. The local executor kills a job whose
  // heartbeat is older than LocalOptions::heartbeat_timeout_s.
  std::function<std::optional<double>(int pid)> heartbeat_age;
};

// A machine-readable progress line of `hcx run`:
//   hcx-progress step=S/N loss=L tokens_per_s=T eta_s=E
struct Progress {
  int64_t step = 0, total = 0;
  double loss = std::nan(""), tokens_per_s = std::nan(""), eta_s = std::nan("");
};

// How a job's process ended.
struct JobResult {
  int exit_code = -1;          // when it exited; -1 otherwise
  int signal = 0;              // when a signal killed it; 0 otherwise
  bool stop_sent = false;      // the executor asked it to stop (a stop request reached the sweep)
  bool kill_sent = false;      // ... and then killed it (a second request)
  double stalled_s = 0;        // > 0: killed by the executor after this many seconds without a heartbeat
  std::string spawn_error;     // the process could not be started (then exit_code is 127)
  int pid = 0;                 // the child's pid (0 when it never started)
  double seconds = 0;          // wall time
  std::string slot;            // Slot::display it ran on
};

// Receives the executor's events, all on the thread that called run().
class ExecObserver {
 public:
  virtual ~ExecObserver() = default;
  virtual void started(const Job& /*job*/, const std::string& /*slot*/, int /*pid*/) {}
  virtual void progress(const Job& /*job*/, const Progress& /*p*/) {}
  virtual void finished(const Job& /*job*/, const JobResult& /*r*/) {}
  // The first stop request (SIGINT/SIGTERM) arrived: running jobs were told to stop.
  virtual void stopping(int /*signal*/) {}
  // About every refresh interval, for a live display.
  virtual void tick() {}
};

struct ExecSummary {
  size_t started = 0;
  size_t finished = 0;   // every started job finishes, even after a stop
  size_t not_started = 0;  // left in the queue by a stop request
  int stop_signal = 0;     // SIGINT or SIGTERM when a stop request arrived; 0 otherwise
};

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs every job of `jobs` in order as slots free up, and returns when all
  // have finished, or, after a stop request, when the running ones have
  // stopped (the rest are not started). A job that fails never stops the
  // others. Not reentrant: one run() per process at a time.
  virtual ExecSummary run(const std::vector<Job>& jobs, ExecObserver& observer) = 0;
};

}  // namespace hcx::exec
