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
constexpr int kExitBusy = 4;         // another live process is training this run (not started)

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
};

// Trains one run and records it (a run another live process holds is not
// started: kExitBusy; shards are owned by their Slurm task and skip the check): status running -> completed, failed,
// diverged or interrupted, with its metrics and summary. A run that is
// already completed is not trained again (unless `fresh`). SIGINT, SIGTERM
// and SIGUSR1 make the run checkpoint and stop as interrupted. Returns one of
// the exit codes above; throws Error(kBadInput) for a bad config or override
// before anything is written, Error(kIo) when the database fails.
int run_command(const RunCommandOptions& opts);

}  // namespace hcx::run
