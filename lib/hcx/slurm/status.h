// The Slurm side of a sweep's runs, from the files under <results>/slurm/
// (files.h) and what Slurm says (client.h): each run's task in
// the latest submission that included it, and that task's state. Used to
// plan (a run queued or running in Slurm is not submitted again), by
// `hcx status` (a "slurm" column) and by `hcx sweep --cancel`. Torch-free.
#pragma once

#include <filesystem>
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>

#include "hcx/slurm/client.h"

namespace hcx::view {
struct StatusReport;
}

namespace hcx::slurm {

struct RunTask {
  std::string sweep;
  int submission = 0;
  TaskKey key;                       // array job id and index
  std::optional<TaskState> state;    // after query_states(); nullopt when no source knows the task
};

// Run id -> its task in the latest submission that included it, over the
// sweeps under <results>/slurm (every sweep when `sweep` is empty). Reads
// files only; a manifest that cannot be read is skipped with a warning.
std::map<std::string, RunTask> run_tasks(const std::filesystem::path& results, const std::string& sweep = "");

// Asks Slurm (query_tasks) for the state of every task in `tasks`. Throws
// Error(kIo) when squeue is missing or fails.
void query_states(std::map<std::string, RunTask>& tasks);

// The runs of `sweep` whose task is still queued or running in Slurm (run id
// -> "123_4 PENDING"): a new submission leaves them out. Empty when the sweep
// was never submitted; throws Error(kIo) when it was and squeue fails.
std::map<std::string, std::string> active_runs(const std::filesystem::path& results, const std::string& sweep);

// For people: "RUNNING 123_4", "PENDING 123_4 (JobArrayTaskLimit)",
// "FAILED 123_4 exit 2", "CANCELLED 123_4", "unknown 123_4" (no source knows it).
std::string describe_task(const RunTask& t);

// The `hcx status` hook (view::StatusOptions::annotate) for the database at
// `db_path`: adds a "slurm" column for the runs submitted to Slurm whose files
// are in <db dir>/slurm/ (the default results folder). Adds nothing when
// nothing was submitted; when Slurm cannot be asked (no squeue here), warns
// and shows "unknown".
std::function<void(view::StatusReport&)> slurm_status_annotator(const std::string& db_path);

// `hcx sweep --cancel`: records the sweep's queued and running arrays in
// <sweep dir>/cancelled (so interrupted tasks do not requeue themselves), then
// scancels them; running runs checkpoint and stop as interrupted. Prints what
// it did to `out`; returns 0. Throws Error(kIo) when Slurm fails, with its message.
int cancel_sweep(const std::filesystem::path& results, const std::string& sweep, std::ostream& out);

}  // namespace hcx::slurm
