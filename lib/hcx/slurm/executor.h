// The Slurm executor: a sweep's jobs as one job array (README "Running on
// a Slurm cluster"). submit() writes each run's shard with its config
// (store::prepare_shard: the tasks open only their shards, never the main
// database), the submission's manifest and script under
// <results>/slurm/<sweep>/ (files.h), and runs
//   sbatch --parsable --array=0-N[%K] [--sbatch-arg ...] array-<n>.sh
// then returns (fire and forget). run() submits and then follows the array
// until every task has ended: every poll it asks squeue (query_tasks), then
// merges the shards into the main database (store::collect), and only then
// reports tasks that started, progressed (from <results>/logs/<id>.log) or
// ended, so a run's final row is merged before its end is reported. A task
// requeued after an interruption is not an end: it is followed until it
// completes or stops for good. Torch-free.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "hcx/exec/executor.h"
#include "hcx/slurm/files.h"
#include "hcx/slurm/options.h"

namespace hcx::slurm {

struct SlurmSetup {
  std::string sweep;
  std::filesystem::path db;        // the main database (made absolute)
  std::filesystem::path results;   // shards/, checkpoints/, logs/, slurm/ (made absolute)
  std::string hcx;                 // the hcx binary the tasks run (made absolute)
  SlurmOptions options;
};

struct SubmitResult {
  Submission submission;           // number, job id, time, runs
  std::filesystem::path manifest, script;
  std::string array;               // "0-2%2"
};

class SlurmExecutor : public exec::Executor {
 public:
  explicit SlurmExecutor(SlurmSetup setup);

  // Submits `jobs` (at least one; each a run of the main database) as
  // submission n and records it in submissions.tsv. Throws Error(kIo) when
  // sbatch is not on PATH or Slurm refuses the job (the message quotes
  // sbatch's); no submission is recorded then (shards prepared before a
  // refusal stay, for the next submission).
  SubmitResult submit(const std::vector<exec::Job>& jobs);

  // submit() and follow the array (see above). The first SIGINT or SIGTERM
  // stops following (the array keeps running; ExecSummary::stop_signal says
  // which signal); Slurm states that cannot be read are retried next poll.
  exec::ExecSummary run(const std::vector<exec::Job>& jobs, exec::ExecObserver& observer) override;

  // The submission run() made; empty before.
  const SubmitResult& submitted() const { return submitted_; }

 private:
  SlurmSetup setup_;
  SubmitResult submitted_;
};

// `hcx sweep --executor slurm` without --wait: submits `jobs` and prints
// "Submitted Slurm job 123: sweep NAME, 3 runs (array 0-2%2)" to `out`, with
// where the files and logs are on stderr; or, when `jobs` is empty, that
// there is nothing to submit. Returns 0; throws as submit() does.
int submit_sweep(SlurmExecutor& slurm, const std::vector<exec::Job>& jobs, std::ostream& out);

}  // namespace hcx::slurm
