// Talking to Slurm through its client commands (sbatch, squeue, sacct,
// scontrol, scancel) and reading what they answer: where each array task of a
// sweep stands. Clusters differ: squeue knows live jobs and, for MinJobAge
// seconds, finished ones; sacct knows finished ones where the cluster keeps
// accounting (slurmdbd); without it, the jobcomp/filetxt file (one key=value
// line per finished job) does, when this machine can read it. The parsers are
// pure functions of the commands' text. Torch-free.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace hcx::slurm {

// ---- running the commands ----------------------------------------------------

struct ToolResult {
  int exit_code = -1;   // 128 + signal when a signal ended it
  std::string out, err;
};

// The full path of `tool` on PATH, or "".
std::string find_tool(const std::string& tool);

// Runs `argv` (argv[0] looked up on PATH, no shell), waits for it and returns
// its exit code and output. Throws Error(kIo) when argv[0] is not on PATH
// ("sbatch: not found on PATH; hcx needs the Slurm client commands ...").
ToolResult run_tool(const std::vector<std::string>& argv);

// ---- task states -------------------------------------------------------------

// One array task: the array's job id and the task's index.
struct TaskKey {
  std::string array_job;
  int64_t index = 0;
  bool operator<(const TaskKey& o) const {
    return array_job != o.array_job ? array_job < o.array_job : index < o.index;
  }
  std::string text() const { return array_job + "_" + std::to_string(index); }  // "123_4"
};

struct TaskState {
  std::string state;               // PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, ...
  std::string reason;              // why it is pending (squeue), e.g. "JobArrayTaskLimit"
  std::string job_id;              // the task's own job id, when known
  std::string node;                // where it runs or ran
  std::optional<int> exit_code;    // when it ended by exiting
  int signal = 0;                  // when a signal ended it
  std::string source;              // "squeue", "sacct" or "jobcomp"
};
using TaskStates = std::map<TaskKey, TaskState>;

// Queued or running in some form (PENDING, RUNNING, REQUEUED, SUSPENDED, ...):
// the task will still run or is running.
bool is_active_state(const std::string& state);
// Ended for good (COMPLETED, FAILED, CANCELLED, TIMEOUT, NODE_FAIL, ...).
bool is_terminal_state(const std::string& state);

// The squeue format hcx asks for (-r -O ...), and its parser: one task a line,
// "array_job|index|job_id|state|reason|nodes|raw_exit_status|". Lines of jobs
// that are not array tasks are ignored.
extern const char* const kSqueueFormat;
TaskStates parse_squeue(const std::string& text);

// The sacct fields hcx asks for (-n -P -X -o ...), and their parser:
// "JobID|State|ExitCode|NodeList", e.g. "123_4|CANCELLED by 0|0:15|node1";
// "123_[5-7%2]" stands for tasks 5, 6 and 7.
extern const char* const kSacctFields;
TaskStates parse_sacct(const std::string& text);

// The jobcomp/filetxt lines of the arrays in `array_jobs`: the last line of
// each JobId in a terminal state wins (a requeue writes a PENDING line first).
// Reads line by line: the file holds every job of the cluster.
TaskStates parse_jobcomp(std::istream& in, const std::set<std::string>& array_jobs);

// From `scontrol show config`: whether the cluster keeps accounting, and its jobcomp.
struct ClusterConfig {
  bool accounting = false;       // AccountingStorageType is not accounting_storage/none
  std::string jobcomp_type;      // e.g. jobcomp/filetxt
  std::string jobcomp_loc;       // the file, for filetxt
};
ClusterConfig parse_show_config(const std::string& text);

// "Restarts=N" of `scontrol show job -o ID`; nullopt when absent.
std::optional<int64_t> parse_restarts(const std::string& show_job);

// Where the tasks `wanted` stand: squeue first (one call for all arrays);
// for tasks squeue no longer knows, sacct when the cluster keeps accounting,
// else the jobcomp file when it is readable here. Tasks no source knows are
// absent. Throws Error(kIo) with Slurm's message when squeue fails (an
// unknown job id is not a failure: it has just left squeue).
TaskStates query_tasks(const std::vector<TaskKey>& wanted);

// The job id in `sbatch --parsable` output ("123" or "123;cluster"); "" when none.
std::string parse_sbatch_job_id(const std::string& out);

}  // namespace hcx::slurm
