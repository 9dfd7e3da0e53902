// The plan of a sweep: for each expanded run, what the results database says
// about it and so what the sweep will do (train it, resume it, skip it), plus
// the work left. Pure: the database is reached through a lookup function that
// store/ and sweep/ provide, so planning is testable with a map.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "hcx/config/provenance.h"
#include "hcx/grid/expand.h"
#include "hcx/run_status.h"

namespace hcx::grid {

// What a sweep does with one run of its grid: a decision of the plan, shown
// as its "state" column; not the stored status (store::RunState is the row).
enum class PlanAction {
  kNew,      // not in the database, or pending: train it
  kResume,   // interrupted, or running in a process that is gone: resume from its checkpoint
  kRetry,    // failed or diverged, and --retry-failed: train it again (from its checkpoint, if any)
  kDone,     // completed: skip
  kFailed,   // failed or diverged: skip (retried only with --retry-failed)
  kRunning,  // running in a live process (another sweep, another host): skip
  kRetrain,  // completed but stale (PlannedRun::stale), and --retrain-stale: train it again from step 0
};
const char* to_string(PlanAction s);  // "new", "resume", "retry", "done", "failed", "running", "retrain"

// What the results database knows of a run.
struct StoredRun {
  RunStatus status = RunStatus::kPending;
  int64_t step = 0;    // last completed optimizer step
  // For status running: whether its process may still be alive. The caller
  // decides (same host: the pid exists; another host: the heartbeat is fresh).
  bool alive = true;
  config::Provenance trained;  // what its latest start recorded; empty fields: unknown
};

// Returns the stored row of `run_id`, or nullopt when the run is unknown.
using StatusLookup = std::function<std::optional<StoredRun>(const std::string& run_id)>;

// Training FLOPs per token of a config (forward + backward), or 0 when unknown.
using FlopsPerToken = std::function<double(const config::RunConfig&)>;

struct PlannedRun {
  size_t index = 0;        // into Expansion::runs
  PlanAction action = PlanAction::kNew;  // what this sweep does with the run (the plan's "state" column)
  std::optional<RunStatus> status;       // the stored status (nullopt when absent), e.g. diverged
  int64_t steps_done = 0;  // steps a resumed run keeps
  int64_t tokens_left = 0; // tokens this sweep will train for it (0 when skipped)
  double flops_left = 0;   // FLOPs likewise; 0 when unknown
  std::string stale;       // completed runs: config::stale_reason() against this build ("" when current)
  bool trains() const {
    return action == PlanAction::kNew || action == PlanAction::kResume || action == PlanAction::kRetry ||
           action == PlanAction::kRetrain;
  }
};

struct Plan {
  std::vector<PlannedRun> runs;  // Expansion::runs order
  size_t n_new = 0, n_resume = 0, n_retry = 0, n_done = 0, n_failed = 0, n_running = 0;
  size_t n_stale = 0;    // completed runs with a stale reason: counted in n_done, or in n_retrain
  size_t n_retrain = 0;  // stale runs trained again (--retrain-stale)
  int64_t tokens_left = 0;   // sum over the runs to train
  int64_t tokens_total = 0;  // every run from scratch
  double flops_left = 0;     // 0 when unknown
  size_t to_train() const { return n_new + n_resume + n_retry + n_retrain; }
};

// Training tokens of a whole run: steps * batch_size * grad_accum * seq_len.
int64_t run_tokens(const config::RunConfig& c);

// The data identity of a config as this binary would train it (config::data_id).
using DataId = std::function<std::string(const config::RunConfig&)>;

struct PlanOptions {
  bool retry_failed = false;   // failed and diverged runs: kRetry instead of kFailed
  bool retrain_stale = false;  // stale completed runs: kRetrain instead of kDone
  config::Provenance build;    // this binary (config::this_build()); empty fields are not compared
  DataId data_id;              // asked only for completed runs that recorded a data_id; empty: data not compared
  FlopsPerToken flops;         // may be empty
};

// Decides each run's action from `lookup` (see PlanAction). A completed run is
// stale when config::stale_reason(stored.trained, {build, data_id(config)})
// says why; it stays kDone (skipped) unless retrain_stale.
Plan make_plan(const Expansion& ex, const StatusLookup& lookup, const PlanOptions& options);

// The same without provenance: make_plan(ex, lookup, {retry_failed, false, {}, {}, flops}).
Plan make_plan(const Expansion& ex, const StatusLookup& lookup, bool retry_failed,
               const FlopsPerToken& flops = {});

// One line per stale run, in grid order: "#3 0123456789abcdef: trained by
// 0.1.0 1a2b3c4, data changed" (empty when none).
std::vector<std::string> stale_lines(const Expansion& ex, const Plan& plan);

// The plan for people: a header, an aligned table (#, id, state, variant,
// distinguishing keys, steps, tokens), totals, the work estimate and the
// stale runs with their reasons (state "stale", or "retrain"). `color`
// adds ANSI colours to the state column (a terminal without NO_COLOR).
std::string render_plan(const Expansion& ex, const Plan& plan, bool color);

// The same as JSON: {"sweep", "source", "runs": [{id, state, status, variant,
// point, steps, steps_done, tokens_left, flops_left, stale}], "totals": {...,
// "stale", "retrain"}}.
config::Json plan_json(const Expansion& ex, const Plan& plan);

// 1234567 -> "1.23M"; 950 -> "950". SI suffixes K M G T P E.
std::string human_count(double v);

}  // namespace hcx::grid
