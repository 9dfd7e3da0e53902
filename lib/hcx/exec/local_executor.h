// The local executor: runs jobs as child processes on this machine, one per
// slot (devices.h), as many at once as there are slots.
//
// Each child: its own process group; stdin /dev/null; stdout and stderr
// appended to Job::log_path (after a header line naming the attempt);
// a footer line with its exit and wall time ("exit 0 after 3.412 s");
// `--device D --threads T` appended to its command; CUDA_VISIBLE_DEVICES set
// to its slot's device ("" on CPU), OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and
// MKL_NUM_THREADS to its thread count, and the thread pools' waits
// (util::training_env: GOMP_SPINCOUNT, OPENBLAS_THREAD_TIMEOUT, unless the
// sweep's environment sets them); CPU affinity set when the slot is
// pinned; PR_SET_PDEATHSIG SIGTERM, so a sweep that is killed outright
// (SIGKILL) still makes its children checkpoint and stop as interrupted.
//
// Stopping: the first SIGINT or SIGTERM to this process during run() sends
// SIGTERM to every running child (`hcx run` checkpoints and exits 3) and
// starts no further job; run() returns once they have exited. A second
// request sends SIGKILL. The previous signal handlers are restored on return.
// A child that crashes, is killed or exits non-zero is just a finished job.
#pragma once

#include <csignal>
#include <vector>

#include "hcx/exec/devices.h"
#include "hcx/exec/executor.h"

namespace hcx::exec {

struct LocalOptions {
  int refresh_ms = 250;         // progress polling and tick() interval
  bool handle_signals = true;   // install SIGINT/SIGTERM handlers during run()
  // A job whose Job::heartbeat_age exceeds this many seconds is hung (a
  // deadlock, a stuck file system): killed with SIGKILL and reported with
  // JobResult::stalled_s, while the other jobs go on. 0: never. `hcx run`
  // heartbeats at every log interval; setup (data, tokenizer) and the final
  // task scoring do not, so keep it well above their time.
  double heartbeat_timeout_s = 0;
  int heartbeat_check_ms = 1000;  // how often heartbeat ages are read
};

class LocalExecutor : public Executor {
 public:
  explicit LocalExecutor(std::vector<Slot> slots, LocalOptions opts = {});
  ExecSummary run(const std::vector<Job>& jobs, ExecObserver& observer) override;

  // Async-signal-safe: the same as receiving `signal` (SIGINT/SIGTERM) during
  // run(). For tests and for callers with their own signal handling.
  static void request_stop(int signal);

 private:
  std::vector<Slot> slots_;
  LocalOptions opts_;
};

}  // namespace hcx::exec
