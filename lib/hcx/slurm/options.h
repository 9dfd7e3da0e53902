// The flags of `hcx sweep --executor slurm` (README "Running on a Slurm cluster"):
// what each array task asks Slurm for, and how the sweep and its tasks behave.
// Plain data plus validation; torch-free.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace hcx::slurm {

struct SlurmOptions {
  std::string partition;                // --partition; "": the cluster's default
  std::string account;                  // --account; "": the user's default
  std::string gres;                     // --gres, e.g. "gpu:1" (one run per GPU); a gpu gres makes runs use cuda
  std::string time;                     // --time per task (minutes, HH:MM:SS, D-HH:MM:SS); "": partition default
  int cpus_per_task = 0;                // --cpus-per-task, also each run's threads; 0: Slurm's default, config threads
  std::string mem;                      // --mem per task ("8G"); "": the cluster's default
  int max_parallel = 0;                 // the %K of --array=0-N%K; 0: no limit
  std::vector<std::string> sbatch_args; // further sbatch arguments, passed as they are
  bool wait = false;                    // block until the array finishes, with progress
  int signal_grace_s = 300;             // --signal=B:USR1@grace: warning this long before the time limit; 0: none
  int max_requeues = 3;                 // a task interrupted by a signal requeues itself at most this often
  double poll_s = 2;                    // --wait: seconds between looks at squeue and the shards
  bool cancel = false;                  // cancel the sweep's queued and running tasks (no requeue), then exit
};

// Seconds of a Slurm time string: "M", "M:S", "H:M:S", "D-H", "D-H:M",
// "D-H:M:S"; nullopt when `s` has none of these forms.
std::optional<long> parse_slurm_time(const std::string& s);

// Throws Error(kBadInput) naming the flag for a value Slurm would refuse or
// that makes no sense (negative counts, a malformed --time or --mem, a
// --signal-grace not shorter than --time).
void validate(const SlurmOptions& o);

}  // namespace hcx::slurm
