// Trains one run end to end (a torch-free header, so the CLI,
// sweep/ and store/ never compile LibTorch). LibTorch lives in trainer.cpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "hcx/config/run_config.h"
#include "hcx/metrics/sink.h"
#include "hcx/run_status.h"

namespace hcx::train {

// The sink the trainer writes through (metrics/sink.h), by its train/ name too.
using metrics::MatrixRow;
using metrics::MemorySink;
using metrics::MetricSink;
using metrics::SpikeRow;

// How a run ended: completed, diverged, interrupted or failed (run_status.h).
using hcx::RunStatus;

struct RunOptions {
  // The run's id (grid/identity.h); a checkpoint of another id is refused.
  std::string run_id = "run";
  // Where this run's checkpoint lives (created if missing). Empty: no
  // checkpoints and no resume.
  std::filesystem::path checkpoint_dir;
  // Resume from the newest usable checkpoint in checkpoint_dir when there is
  // one. Usable: readable (else the previous one is tried, and the log says
  // so), written for this database (db_id) and with its history there
  // (history_holds(step)); a checkpoint of another database or without its
  // rows is moved to checkpoint_dir/set-aside/ and named in the log.
  bool resume = true;
  // The database that receives this run's rows (store::database_id); recorded
  // in every checkpoint. Empty: not checked (tests without a database).
  std::string db_id;
  // runs.attempt of this process; recorded in every checkpoint.
  int64_t attempt = 0;
  // True when the database holds this run's train/loss rows of steps 1..step.
  // Empty: not checked.
  std::function<bool(int64_t step)> history_holds;
  // Where SentencePiece-encoded text is cached; empty: data::default_cache_dir().
  std::filesystem::path cache_dir;
  // Progress display on stderr: "auto" (a live line on a terminal, plain log
  // lines otherwise), "plain", or "none".
  std::string progress = "auto";
};

struct RunOutcome {
  RunStatus status = RunStatus::kFailed;
  int64_t step = 0;     // optimizer steps completed
  int64_t tokens = 0;   // training tokens seen
  std::string error;    // why it failed or diverged; empty when completed
};

// Trains `cfg` and sends every measurement to `sink`. Steps count completed
// optimizer steps: train/loss at step t is the loss of the batch of the t-th
// update; val/loss at step t is measured after t updates (step 0: at init). Bad data or config
// throws Error(kBadInput) before the first step. Divergence (NaN/inf loss or
// gradient) and an interruption (request_stop(), e.g. from SIGINT/SIGTERM) are
// outcomes, not exceptions: the last good checkpoint is kept and the status
// says what happened. A checkpoint is written only from finite weights (else
// the run is diverged); one that cannot be written (no space, I/O error)
// ends the run as interrupted, with the error, the earlier checkpoints intact.
// Before the first allocation the memory estimate (memory_estimate.h) is
// checked against the device: a run that cannot fit throws Error(kBadInput).
// LibTorch's own errors are rethrown as Error(kRunFailed) without their C++
// backtrace.
RunOutcome train_run(const config::RunConfig& cfg, const RunOptions& opts, MetricSink& sink);

// Throws Error(kBadInput) when `cfg` cannot run here: its device is absent,
// or its memory estimate (memory_estimate.h) exceeds what the device has
// free. Allocates nothing; train_run calls it first, `hcx run` before it
// claims the run, so a refused run writes nothing.
void check_fits(const config::RunConfig& cfg);

// Async-signal-safe: asks the running train_run to checkpoint and stop at the
// end of the current step. Installed by `hcx run` for SIGINT, SIGTERM, SIGUSR1.
void request_stop();
bool stop_requested();
void clear_stop();

// True once a train_run of this process reached its training loop (after
// setup, resume and the evaluation at step 0): before, there is nothing to
// checkpoint, and a stop request may end the process at once (run/run_command.cpp).
bool training_started();

}  // namespace hcx::train
