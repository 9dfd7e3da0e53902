// One Slurm array task: `hcx slurm-task`, which every array-<n>.sh execs
// (files.h). It looks up its run in the manifest by SLURM_ARRAY_TASK_ID,
// checks that the run's shard (written by the coordinator before submitting,
// store::prepare_shard) holds the run, and runs
//   hcx run --run-id ID --shard --results RESULTS --progress plain
// as a child with its output appended to <results>/logs/<id>.log. It
// forwards SIGUSR1 (Slurm's warning before the time limit, `--signal=B:USR1`
// reaches only the batch script, which this process is) and SIGTERM/SIGINT
// (preemption, scancel) to the run, which checkpoints and exits 3
// (interrupted). Then it requeues its own job with `scontrol requeue
// $SLURM_JOB_ID`, unless the sweep was cancelled (`hcx sweep --cancel`),
// Slurm already requeued the job itself, or the task has been requeued
// max_requeues times (SLURM_RESTART_COUNT). Once requeued, the task starts
// again after Slurm's delay and the run resumes from its checkpoint; the run
// records the attempt (SLURM_RESTART_COUNT + 1). Requeueing lives here, in
// the process that saw the run stop, and not in a bash trap: bash may lose a
// child's exit status when a trapped signal interrupts `wait`. Torch-free.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace hcx::slurm {

struct SlurmTaskOptions {
  std::string manifest;      // manifest-<n>.json of the submission
  int threads = 0;           // hcx run --threads (and OMP_NUM_THREADS...); 0: the run's config
  std::string device;        // hcx run --device; "": the run's config
  int max_requeues = 3;      // self-requeues allowed (compared with SLURM_RESTART_COUNT)
  std::string hcx_binary;    // the hcx the run executes; "": this process's executable
};

// What the task knows when its run has ended.
struct RequeueFacts {
  bool interrupted = false;             // the run checkpointed and stopped (exit 3, or the forwarded signal)
  bool cancelled = false;               // the array is listed in <sweep dir>/cancelled
  int64_t restart_count = 0;            // SLURM_RESTART_COUNT (0 when unset: the first run)
  int max_requeues = 3;
  std::optional<int64_t> slurm_restarts;  // Restarts= of `scontrol show job`, when known
};

enum class RequeueDecision {
  kNotInterrupted,  // the run ended (completed, failed, bad input): nothing to requeue
  kRequeue,         // scontrol requeue
  kCancelled,       // hcx sweep --cancel: stop for good
  kSlurmRequeues,   // Slurm is requeueing the job itself (scontrol requeue by someone, preemption)
  kLimitReached,    // max_requeues requeues already
};

// Pure: the decision for `f`, in the order of the enum's comments.
RequeueDecision decide_requeue(const RequeueFacts& f);

// A sentence for the task's log: "requeued (attempt 2 of at most 4)" ...
std::string describe(RequeueDecision d, const RequeueFacts& f);

// Runs the task described above and returns its exit code: that of
// `hcx run` (0 completed, 1 failed or diverged, 2 bad input, 3 interrupted),
// or 128+N when signal N killed it. Neither it nor the run opens the main
// database, only the run's shard. Throws Error(kBadInput) outside an array
// task (no SLURM_ARRAY_TASK_ID) and for a manifest/run mismatch (the index is
// not in the manifest, or the run's shard is missing or lacks the run),
// naming both.
int slurm_task_command(const SlurmTaskOptions& opts);

}  // namespace hcx::slurm
