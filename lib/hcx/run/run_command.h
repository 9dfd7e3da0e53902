// One run, wired end to end: a config (from a file or from the runs table), the
// results database (or a per-run shard of it) and the trainer. This is what
// `hcx run` does, and what every sweep child and Slurm array task executes.
// Torch-free header; the module links the trainer (hcx_torch) and the store.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hcx::run {

// Exit codes of `hcx run` (the sweep executor relies on them).
constexpr int kExitCompleted = 0;
constexpr int kExitFailed = 1;       // failed or diverged
constexpr int kExitBadInput = 2;     // config, data or usage the user must fix
constexpr int kExitInterrupted = 3;  // checkpointed on SIGINT/SIGTERM/SIGUSR1; run again to resume
constexpr int kExitBusy = 4;         // another live process is training this run (not started, or taken over)

struct RunCommandOptions {
  std::string config_path;             // CONFIG.json; or
  std::string run_id;                  // --run-id: the config stored in the runs table
  std::vector<std::string> overrides;  // -s key=value (config file only)
  std::string db = "results/hcx.db";
  std::string results_dir;             // checkpoints/ and shards/ live here; default: the db's directory
  bool shard = false;                  // write to <results_dir>/shards/<run-id>.db and never open the db
                                       // (with run_id, the config is read from that shard)
  std::string device;                  // overrides train.device (placement, not identity)
  int64_t threads = -1;                // overrides train.threads when >= 0
  std::string progress = "auto";       // "auto" | "plain" | "live" | "none"
  bool fresh = false;                  // discard the checkpoint and earlier rows; train from step 0
  std::vector<std::string> tags;       // --tag: added to the run's (hcx report --tag)
  std::string note;                    // --note: replaces the run's note
};

// Trains one run and records it: status running -> completed, failed,
// diverged or interrupted, with its metrics and summary. A run that is
// already completed is not trained again (unless `fresh`).
//
// One trainer per run: the claim (is another live process training it? if
// not, create/refresh the row and mark it running for this attempt) is one
// transaction, so of processes racing for a run exactly one trains and the
// others return kExitBusy without changing the row. Liveness compares the
// holder's pid and process start time (exec::running_row_alive); shards are
// owned by their Slurm task and skip the check. `fresh` deletes the
// checkpoint only after the claim. Every later write (metrics, heartbeat,
// the final status) is fenced by the attempt: a process whose run was taken
// over writes nothing more and returns kExitBusy.
//
// SIGINT, SIGTERM and SIGUSR1 make the run checkpoint and stop as
// interrupted; before training started (model, data, resume, step-0
// evaluation) and on a second signal the process records `interrupted` and
// exits at once with kExitInterrupted. Returns one of the exit codes above;
// throws Error(kBadInput) for a bad config or override before anything is
// written, Error(kIo) when the database fails. Input files (config/inputs.h)
// are checked before the claim: one that cannot be read throws
// Error(kBadInput) naming the run, key and file, and changes nothing. Each
// start records runs.code_version, code_commit and data_id (store::set_provenance).
int run_command(const RunCommandOptions& opts);

}  // namespace hcx::run
