// `hcx sweep`: one experiment file in, every run trained, nothing trained
// twice, nothing lost when something breaks (docs/architecture.md, "Data flow").
//
//   1. Expand and validate the whole grid (grid/expand.h); any error: exit 2,
//      nothing written.
//   2. Dry run: print the plan (each run's id, distinguishing keys, and
//      new / done / resume / failed / running), totals and the work; the
//      database is only read, and not created when missing.
//   3. Otherwise register the sweep and its runs, and decide per run from its
//      row: completed runs are skipped; interrupted ones, and 'running' ones
//      whose process is gone (exec/outcome.h), resume from their checkpoint;
//      failed and diverged ones are skipped unless retry_failed; completed
//      ones trained by another build or on other data are stale, listed, and
//      trained again from step 0 only with retrain_stale (sweep/provenance.h).
//      Before any of this, every file a run reads must be readable (exit 2).
//   4. Run `hcx run --run-id ID --db PATH --results DIR` for each through the executor,
//      logging to <results>/logs/<id>.log, with a live display; record what a
//      child could not (a crash, a kill); print a summary to stdout.
//
// Exit code: 0 when every run of the grid is completed (or running
// elsewhere), 1 when any failed or diverged, 128+N when signal N (SIGINT,
// SIGTERM) stopped the sweep: its running children checkpointed and are
// 'interrupted', and the next invocation resumes them.
//
// --executor slurm: before planning, shards are merged (store::collect) and
// runs whose task of an earlier submission is still queued or running in
// Slurm count as running elsewhere; step 4 submits the runs to train as one
// job array and returns 0 at once, or with slurm.wait follows it like a local
// sweep (128+N then means only that following stopped; the array runs on).
// slurm.cancel cancels the sweep's queued and running tasks instead.
#pragma once

#include <string>
#include <vector>

#include "hcx/grid/plan.h"
#include "hcx/slurm/options.h"

namespace hcx::sweep {

// A locally run child whose run has not heartbeat for this long is killed
// (hung) and recorded as failed: well above hcx run's longest silent stretch
// (setup, a SentencePiece training, the final task scoring).
constexpr double kDefaultHeartbeatTimeoutS = 30 * 60;

struct SweepOptions {
  std::string experiment;                // experiment file
  std::vector<std::string> overrides;    // "-s key=v1,v2"
  std::string name;                      // --name: the sweep's name (default: grid::sweep_name of file and -s)
  std::vector<std::string> tags;         // --tag, added to the sweep's
  std::string note;                      // --note: replaces the sweep's note
  std::string executor = "local";        // local | slurm
  int jobs = 0;                          // slots; 0: see devices.h
  std::string devices = "auto";          // auto | cpu | cuda | cuda:0,1
  int threads = 0;                       // threads per run; 0: the runs' train.threads if set, else see devices.h
  bool dry_run = false;
  std::string format = "table";          // dry run: table | json
  bool retry_failed = false;
  bool retrain_stale = false;            // completed runs of another build or other data: train again from step 0
  std::string db_path = "results/hcx.db";
  std::string results_dir;               // logs go to <results_dir>/logs; "": the database's directory
  std::string hcx_binary;                // the program children run (`hcx`); "": this process's executable
  double heartbeat_timeout_s = kDefaultHeartbeatTimeoutS;  // local: kill a run silent this long (hung); 0 never
  slurm::SlurmOptions slurm;  // --executor slurm (slurm/executor.h): resources, --wait, --cancel
};

// Runs the sweep described above and returns the exit code. Bad input
// (experiment, flags) throws Error(kBadInput) before anything is written; a
// database that cannot be opened throws Error(kIo).
int sweep_command(const SweepOptions& opts);

}  // namespace hcx::sweep
