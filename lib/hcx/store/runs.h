// The run lifecycle in the database: sweeps, runs and their parameters, the
// claim/heartbeat/finish protocol, summaries, and the status rows the sweep
// executor and `hcx status` read. Owners: sweeps, sweep_runs, runs,
// run_params, run_summary (schema.h).
//
// Life of a run: register_runs()/upsert_run() creates it 'pending'; the
// process that trains it calls start_run() (or claim_run() when it must not
// steal a live run), then writes through SqliteSink (which heartbeats on each
// flush), then finish_run(). An executor finds dead runs with stale_runs()
// (heartbeat older than N seconds) and decides whether to take them over.
//
// Every write below is one transaction (joining an outer write_txn when there
// is one), retried on a busy database, and bumps runs.updated_at/revision of
// the run it touches, which is what collect() compares. Failures throw
// Error(kIo) naming the database path; an unknown run id where one must exist
// throws Error(kBadInput).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hcx/config/provenance.h"
#include "hcx/config/run_config.h"
#include "hcx/run_status.h"
#include "hcx/store/db.h"

namespace hcx::store {

// ---- sweeps ---------------------------------------------------------------

// Registers the sweep `name` and returns its id. The same name again is the
// same sweep: the id and created_at are kept, and spec_json and hcx_version
// are replaced by the latest ones (the spec of the most recent invocation,
// e.g. with new -s overrides). Runs linked earlier stay linked.
int64_t register_sweep(Db& db, const std::string& name, const std::string& spec_json,
                       const std::string& hcx_version);

// The id of sweep `name`, or nullopt.
std::optional<int64_t> find_sweep_id(const Db& db, const std::string& name);

// Throws Error(kBadInput) for an empty tag or one with a comma or blank.
void check_tags(const std::vector<std::string>& tags);

// Adds `tags` to sweep `sweep_id` (tags accumulate over invocations; a tag
// of a sweep is a tag of each of its runs) and sets its note when `note` is
// not empty. Checks the tags first (check_tags).
void tag_sweep(Db& db, int64_t sweep_id, const std::vector<std::string>& tags, const std::string& note);

// ---- runs -----------------------------------------------------------------

// Creates run `run_id` as 'pending' with config_json = to_json(cfg) and
// run_params = config::flatten(cfg), or, when it exists, refreshes config_json
// and run_params and keeps its status, progress and results.
void upsert_run(Db& db, const std::string& run_id, const config::RunConfig& cfg);

// tag_sweep for one run (hcx run --tag/--note). The run must exist.
void tag_run(Db& db, const std::string& run_id, const std::vector<std::string>& tags, const std::string& note);

// Links a run to a sweep at `position` in the expanded grid (replaces an
// earlier position). Both must exist; foreign keys reject anything else.
void link_run(Db& db, int64_t sweep_id, const std::string& run_id, int64_t position);

// One run of an expanded grid.
struct RunEntry {
  std::string id;
  config::RunConfig config;
};

// upsert_run + link_run for every entry (position = index in `runs`), in ONE
// transaction: registering a 1,000-run grid takes milliseconds, not seconds.
void register_runs(Db& db, int64_t sweep_id, const std::vector<RunEntry>& runs);

// Who runs a run, and where.
struct StartInfo {
  std::string device;                 // "cpu", "cuda:0", ...
  std::string host;                   // empty: this machine's hostname
  int64_t pid = 0;                    // 0: this process's pid
  std::optional<int64_t> attempt;     // default: the previous attempt + 1 (Slurm: restart count + 1)
  std::string log_path;               // empty keeps the stored one
  std::string proc_start;             // start time of process `pid` (exec::process_start_token); "" unknown
  int test_claim_delay_ms = 0;        // tests only: claim_run pauses between its check and its write
};

// Marks the run 'running' for `info`: device, host, pid, attempt, started_at
// = heartbeat_at = now; clears finished_at and error. Unconditional: the
// caller (the process that trains) owns the run from now on. Returns the
// attempt number stored. Throws Error(kBadInput) for an unknown run id.
int64_t start_run(Db& db, const std::string& run_id, const StartInfo& info = {});

struct RunState;

// Whether the process that holds a 'running' row is alive; the caller decides
// how (exec::running_row_alive compares pid and process start time).
using HolderAlive = std::function<bool(const RunState& row)>;

// start_run() only when nobody live holds the run: refuses (nullopt, nothing
// written) when it is 'running' and holder_alive(row) says its process lives.
// When the row does not exist and `cfg` is given, it is created first
// (upsert_run); otherwise an unknown id throws Error(kBadInput). Check and
// write are one BEGIN IMMEDIATE transaction, so of several processes claiming
// the same run exactly one wins, and a refused claim changes nothing.
std::optional<int64_t> claim_run(Db& db, const std::string& run_id, const StartInfo& info,
                                 const HolderAlive& holder_alive, const config::RunConfig* cfg = nullptr);

// claim_run with liveness by heartbeat: alive when younger than `stale_after_s` seconds.
std::optional<int64_t> claim_run(Db& db, const std::string& run_id, const StartInfo& info,
                                 double stale_after_s);

// Records what trains the run from this start on: runs.code_version,
// code_commit and data_id (all three replaced; empty fields are stored as
// ""), in one transaction. `hcx run` calls it right after start_run() or
// claim_run(). Throws Error(kBadInput) for an unknown run id.
void set_provenance(Db& db, const std::string& run_id, const config::Provenance& p);

// The recorded provenance of `run_ids` (every run when empty): run id ->
// what its latest start recorded. Runs that never recorded any (NULL columns:
// not started since schema 2) have empty fields; unknown ids are absent.
std::map<std::string, config::Provenance> provenances(const Db& db, const std::vector<std::string>& run_ids = {});

// Liveness without metrics: sets step, tokens and heartbeat_at = now.
void heartbeat(Db& db, const std::string& run_id, int64_t step, int64_t tokens);

// Ends a run: status is completed, failed, diverged or interrupted (pending
// or running throws Error(kBadInput)); sets error (empty = NULL),
// finished_at = heartbeat_at = now. With `attempt`, only while the row is
// still that attempt's: returns false and writes nothing when a newer attempt
// has taken the run over (the caller no longer owns it).
bool finish_run(Db& db, const std::string& run_id, RunStatus status, const std::string& error = "",
                std::optional<int64_t> attempt = std::nullopt);

// True when the database holds run `run_id`'s metric `name` at every step
// 1..`step` (true for step <= 0): the history a checkpoint of that step needs
// before a run may resume from it.
bool holds_steps(const Db& db, const std::string& run_id, const std::string& name, int64_t step);

// Puts a run back to 'pending' (e.g. --retry-failed): clears pid, error and
// finished_at; keeps attempt, metrics and results until the run restarts.
void requeue_run(Db& db, const std::string& run_id);

// Summary columns of runs, filled by set_summary() for these keys; any other
// key goes to run_summary. params and best_val_step are stored as integers.
const std::vector<std::string>& summary_columns();

// Stores one per-run figure (see summary_columns()).
void set_summary(Db& db, const std::string& run_id, const std::string& key, double value);

// ---- status rows ------------------------------------------------------------

// What executors and `hcx status` need to know about one run.
struct RunState {
  std::string id;
  RunStatus status = RunStatus::kPending;
  int64_t step = 0;                   // last completed optimizer step
  int64_t total_steps = 0;            // train.steps from run_params (0 when unknown)
  int64_t tokens = 0;
  int64_t attempt = 0;
  std::optional<int64_t> pid;
  std::string proc_start;             // start time of `pid` when it claimed the run ("" unknown)
  std::string host, device, error, log_path;
  std::string started_at, finished_at, heartbeat_at, updated_at;  // "" when NULL
  std::optional<double> heartbeat_age_s;  // now - heartbeat_at
  std::optional<double> last_loss;        // latest train/loss metric
  std::optional<int64_t> position;        // in the sweep asked for
};

// One run, or nullopt.
std::optional<RunState> run_state(const Db& db, const std::string& run_id);

// Runs of sweep `sweep` in grid order, or every run when `sweep` is empty
// (started runs by start time, then the others by id). An unknown sweep
// name throws Error(kBadInput), suggesting the nearest known name.
std::vector<RunState> run_states(const Db& db, const std::string& sweep = "");

// Runs in status 'running' whose heartbeat is older than `max_age_s` seconds
// (or missing), optionally only those of `sweep`. Reading only: the executor
// decides whether to take them over (claim_run with the same threshold).
std::vector<RunState> stale_runs(const Db& db, double max_age_s, const std::string& sweep = "");

// Run counts per status, for all runs or those of `sweep`.
std::map<std::string, int64_t> status_counts(const Db& db, const std::string& sweep = "");

}  // namespace hcx::store
