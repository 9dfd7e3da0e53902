// The files a Slurm sweep keeps under <results>/slurm/<sweep>/ (README
// "Running on a Slurm cluster"), all on the shared file system the tasks see:
//
//   manifest-<n>.json   submission n: array index -> run id (+ the database and results paths;
//                       each run's config is in its shard, results/shards/<run-id>.db)
//   array-<n>.sh        submission n's job-array script (sbatch --array=0-N%K array-<n>.sh)
//   submissions.tsv     one line per accepted submission: n, Slurm job id, time, runs
//   cancelled           array job ids cancelled by `hcx sweep --cancel`, one a line
//   logs/<job>_<i>.out  Slurm's own output of each task (appended across requeues)
//
// Each submission gets its own manifest and script, so an array still queued
// from an earlier submission keeps reading its own. Pure file formats and
// text; nothing here talks to Slurm. Torch-free.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "hcx/slurm/options.h"

namespace hcx::slurm {

// <results>/slurm/<sweep>
std::filesystem::path slurm_sweep_dir(const std::filesystem::path& results_dir, const std::string& sweep);

struct ManifestRun {
  int64_t index = 0;     // SLURM_ARRAY_TASK_ID
  std::string run_id;
  std::string name;      // for people: "DHC×2 seed=1"
};

struct Manifest {
  std::string sweep;
  std::string db;        // absolute path of the main database: the coordinator's; tasks never open it
  std::string results;   // absolute path of the results folder (shards/, checkpoints/, logs/)
  std::vector<ManifestRun> runs;  // indices 0..N-1 in order

  const ManifestRun* find(int64_t index) const;  // nullptr when absent
};

// Writes `m` as JSON (via a temporary file and a rename). Error(kIo) on failure.
void write_manifest(const std::filesystem::path& path, const Manifest& m);
// Reads a manifest; Error(kBadInput) naming `path` when it is missing or malformed.
Manifest read_manifest(const std::filesystem::path& path);

// What goes into an array script.
struct ScriptSpec {
  std::string hcx;                  // absolute path of the hcx binary the tasks run
  std::string manifest;             // absolute path of manifest-<n>.json
  std::string workdir;              // absolute --chdir
  std::string log_dir;              // absolute <sweep dir>/logs
  std::string job_name;             // --job-name
  SlurmOptions options;
};

// "0-N" or "0-N%K" for `n_tasks` tasks (n_tasks >= 1).
std::string array_spec(size_t n_tasks, int max_parallel);

// The bash script of one submission: #SBATCH lines for the job name, output
// (<log_dir>/%A_%a.out, --open-mode=append), --chdir, --requeue, the signal
// (B:USR1@grace) and the resources in `spec.options`, then
//   exec HCX slurm-task --manifest M [--threads C] [--device cuda] --max-requeues R
// (exec: the warning signal reaches hcx itself, which forwards it to the run).
// Paths are single-quoted; values with a newline are refused (Error(kBadInput)).
std::string array_script(const ScriptSpec& spec);

// One accepted submission of a sweep.
struct Submission {
  int number = 0;              // n of manifest-<n>.json / array-<n>.sh
  std::string job_id;          // the array's Slurm job id
  std::string submitted_at;    // UTC ISO time
  size_t runs = 0;
};

// <sweep dir>/submissions.tsv
std::filesystem::path submissions_path(const std::filesystem::path& sweep_dir);
// The submissions of a sweep, oldest first (empty when none).
std::vector<Submission> read_submissions(const std::filesystem::path& sweep_dir);
// Appends one line. Error(kIo) on failure.
void append_submission(const std::filesystem::path& sweep_dir, const Submission& s);
// 1 + the highest number in use (submissions and manifests on disk).
int next_submission_number(const std::filesystem::path& sweep_dir);
std::filesystem::path manifest_path(const std::filesystem::path& sweep_dir, int number);
std::filesystem::path script_path(const std::filesystem::path& sweep_dir, int number);

// Array job ids cancelled by `hcx sweep --cancel` (<sweep dir>/cancelled).
std::vector<std::string> read_cancelled(const std::filesystem::path& sweep_dir);
void append_cancelled(const std::filesystem::path& sweep_dir, const std::vector<std::string>& job_ids);

}  // namespace hcx::slurm
