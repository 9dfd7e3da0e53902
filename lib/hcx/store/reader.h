// Reading results back, for `hcx report`, `hcx status` and tests: sweeps,
// runs with their params and summaries, curves and the per-step tables.
//
// All functions take any Db (read-only is enough), never write, and throw
// Error(kIo) naming the database on a SQLite failure. Functions that take
// `run_ids` read those runs in one query (an empty list means every run), so a
// report over 1,000 runs costs a handful of statements, not thousands.
// Results are ordered by run id, then step (curves and tables).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hcx/run_status.h"
#include "hcx/store/db.h"

namespace hcx::store {

struct SweepInfo {
  int64_t id = 0;
  std::string name, spec_json, created_at, hcx_version;
  int64_t runs = 0;  // linked runs
  std::string note;                          // hcx sweep --note ("" when none)
  std::vector<std::string> tags;             // hcx sweep --tag, sorted
  std::map<std::string, int64_t> by_status;  // linked runs per runs.status
};

// Every sweep, latest first (created_at, then id, descending).
std::vector<SweepInfo> list_sweeps(const Db& db);
std::optional<SweepInfo> get_sweep(const Db& db, const std::string& name);

// Ids of the runs carrying `tag`: their own (hcx run --tag) or a sweep's
// they belong to (hcx sweep --tag), sorted.
std::vector<std::string> tagged_run_ids(const Db& db, const std::string& tag);

// Ids of the runs that belong to no sweep (hcx run CONFIG), sorted.
std::vector<std::string> unswept_run_ids(const Db& db);

// Every run id, sorted.
std::vector<std::string> run_ids(const Db& db);

// A run id may be shortened to a prefix of this many characters or more.
inline constexpr size_t kMinRunIdPrefix = 4;

// The ids among `ids` that `wanted` names: {wanted} when it is one of them;
// else, when it has kMinRunIdPrefix characters or more, every id that starts
// with it (one, several or none), in the order of `ids`; else none. Pure.
std::vector<std::string> match_run_id(const std::vector<std::string>& ids, const std::string& wanted);

// A runs row with its flattened config and summary.
struct RunRecord {
  std::string id;
  RunStatus status = RunStatus::kPending;
  std::string config_json;
  int64_t step = 0, tokens = 0, attempt = 0;
  std::string device, host, error, log_path;
  std::string started_at, finished_at, heartbeat_at, updated_at;  // "" when NULL
  // Summary columns (NULL until the run reports them).
  std::optional<int64_t> param_count;  // runs.params: parameters of the model
  std::optional<double> final_train_loss, final_val_loss, best_val_loss;
  std::optional<int64_t> best_val_step;
  std::optional<double> tokens_per_s;
  std::map<std::string, std::string> params;  // run_params: dotted key -> value as text
  std::map<std::string, double> summary;      // run_summary (NULL values read as NaN)
  std::optional<int64_t> position;            // in the sweep asked for
};

// Runs of sweep `sweep` in grid order, or every run by id when `sweep` is
// empty; three queries in all. An unknown sweep throws Error(kBadInput).
std::vector<RunRecord> list_runs(const Db& db, const std::string& sweep = "");
std::optional<RunRecord> get_run(const Db& db, const std::string& run_id);

// A curve: steps ascending, values aligned (NULL/NaN values read as NaN).
struct Curve {
  std::vector<int64_t> steps;
  std::vector<double> values;
};

Curve metric_curve(const Db& db, const std::string& run_id, const std::string& name);

// One metric over many runs in one query: run id -> curve. Runs without that
// metric are absent from the map.
std::map<std::string, Curve> metric_curves(const Db& db, const std::string& name,
                                           const std::vector<std::string>& run_ids = {});

// Metric names of one run, or of all runs when `run_id` is empty; sorted.
std::vector<std::string> metric_names(const Db& db, const std::string& run_id = "");

struct EvalRecord {
  std::string run_id;
  int64_t step = 0;
  std::string task, metric;
  double value = 0;
};
std::vector<EvalRecord> read_evals(const Db& db, const std::vector<std::string>& run_ids = {});

struct LayerStatRecord {
  std::string run_id;
  int64_t step = 0, layer = 0;
  std::string name;
  double value = 0;
};
// `name` filters to one statistic when not empty.
std::vector<LayerStatRecord> read_layer_stats(const Db& db, const std::vector<std::string>& run_ids = {},
                                              const std::string& name = "");

struct MatrixRecord {
  std::string run_id;
  int64_t step = 0, layer = 0;
  std::string sublayer, name;
  int64_t rows = 0, cols = 0;
  std::vector<double> values;  // row-major, rows * cols
};
// `last_step_only`: for each run, only the matrices of its last recorded step.
std::vector<MatrixRecord> read_hc_matrices(const Db& db, const std::vector<std::string>& run_ids = {},
                                           bool last_step_only = false);

struct SpikeRecord {
  std::string run_id, metric;
  int64_t step = 0;
  double value = 0, mean = 0, std = 0, score = 0;
};
std::vector<SpikeRecord> read_spikes(const Db& db, const std::vector<std::string>& run_ids = {});

// Streaming reads for `hcx report --export`: every metric row of many runs
// without holding them in memory.
// Calls `fn` for every metrics row of the runs `run_ids` (nothing when the
// list is empty), ordered by run id, metric name, step. The views are valid
// during the call only; value is nullopt for a NULL. One query, stepped row
// by row: constant memory at any size. Throws Error(kIo) on a SQLite failure.
using MetricRowFn =
    std::function<void(std::string_view run_id, std::string_view name, int64_t step, std::optional<double> value)>;
void for_each_metric_row(const Db& db, const std::vector<std::string>& run_ids, const MetricRowFn& fn);

}  // namespace hcx::store
