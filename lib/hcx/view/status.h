// `hcx status`: where the runs of a sweep (or of the whole database) stand:
// counts by status, then one line per run with its progress, heartbeat age,
// device and last loss.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hcx/store/reader.h"
#include "hcx/store/runs.h"
#include "hcx/store/shards.h"

namespace hcx::view {

// A further per-run column that another module supplies (slurm/ adds the
// Slurm job state this way): header, and value by run id ("" when missing).
struct StatusColumn {
  std::string header;
  std::map<std::string, std::string> values;
};

struct StatusReport {
  std::string sweep;                       // "" = all runs
  std::map<std::string, int64_t> counts;   // status -> runs
  std::vector<store::RunState> runs;       // grid order for a sweep
  std::vector<StatusColumn> extra;         // printed after the standard columns
  std::optional<store::CollectReport> collected;  // shards merged first, if any
};

// Counts and run rows of `sweep` (or all runs). Unknown sweep: Error(kBadInput).
StatusReport build_status(const store::Db& db, const std::string& sweep = "");

// Table: a count line ("12 runs: 3 completed, 2 running, 7 pending"), then
// columns run, status, step ("120/200"), heartbeat (age, "4s"), device, loss
// (latest train/loss), the extra columns, and error when a run has one.
void write_status_table(const StatusReport& r, std::ostream& out);
// JSON: {"sweep", "counts", "runs": [{id, status, step, total_steps, tokens,
// attempt, device, host, pid, heartbeat_at, heartbeat_age_s, last_loss,
// error, ...extra columns by header}]}; absent values are null.
void write_status_json(const StatusReport& r, std::ostream& out);

// Options of `hcx status`.
struct StatusOptions {
  std::string sweep;
  std::string db = "results/hcx.db";
  std::string format = "table";  // table | json
  double watch_s = 0;            // --watch: print again every this many seconds (0: once)
  bool clear = false;            // with watch_s: clear the terminal before each print
  int64_t max_prints = 0;        // with watch_s: stop after this many prints (0: until a signal; tests)
  // Called on the report before it is printed (e.g. to add a Slurm column).
  std::function<void(StatusReport&)> annotate;
};

// `hcx status`: open_collected(), then the report to `out`; with watch_s,
// again every watch_s seconds under a header line ("every 2 s · hcx status
// · 12:00:01"), the screen cleared first when `clear`. Returns 0.
int status_command(const StatusOptions& opts, std::ostream& out);

// Options of `hcx sweeps`.
struct SweepsOptions {
  std::string db = "results/hcx.db";
  std::string format = "table";  // table | json
};

// `hcx sweeps`: every sweep, latest first: name, runs, runs by status,
// created, tags, note; then how many runs belong to no sweep. JSON: {"sweeps":
// [{name, runs, by_status, created_at, tags, note, hcx_version}],
// "unswept_runs"}. Returns 0.
int sweeps_command(const SweepsOptions& opts, std::ostream& out);

}  // namespace hcx::view
