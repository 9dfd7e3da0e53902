// Fills a ReportInput from the results database through store/reader.h:
// the runs of one sweep, filtered by --where, with the curves and tables the
// chosen rendering needs (diagnostics and matrices only for HTML).
#pragma once

#include <string>
#include <vector>

#include "hcx/report/input.h"
#include "hcx/report/select.h"
#include "hcx/store/db.h"

namespace hcx::report {

// Pseudo-sweeps of --sweep: every run of the database, and the runs of no
// sweep (trained by hcx run CONFIG).
inline constexpr const char* kAllRuns = ":all";
inline constexpr const char* kUnswept = ":unswept";

struct Selection {
  std::string sweep;                // "" = the latest sweep (every run when there is no sweep at all,
                                    //   or when tag or runs is given); or kAllRuns, kUnswept
  std::vector<Assignment> where;    // --where key=value, all must hold
  std::string tag;                  // --tag: only runs carrying it (their own or their sweep's)
  std::vector<std::string> runs;    // --runs: only these ids (whole, or unique prefixes of 4+ digits)
};

struct LoadScope {
  std::vector<std::string> curves = {"train/loss", "val/loss"};  // metric names to read in full
  bool diagnostics = false;  // layer_stats at each run's last recorded step
  bool matrices = false;     // hc_matrices at each run's last recorded step (see also load_matrices)
};

// The sweep `sweep` names, or the latest one when it is empty ("" when the
// database has no sweep at all: then every run is reported). Throws
// Error(kBadInput) for an unknown name, suggesting the nearest.
std::string resolve_sweep(const store::Db& db, const std::string& sweep);

// Reads the selected runs in grid order; the curves of 64 runs or more by up
// to 4 threads, each on its own read-only connection to db.path(). A --where key that no run of the
// sweep has throws Error(kBadInput) naming the nearest key; an unknown sweep
// too. SQLite failures throw Error(kIo).
ReportInput load_input(const store::Db& db, const Selection& sel, const LoadScope& scope);

// Adds the hc_matrices of each run's last recorded step to the runs
// `indices` of `input` (e.g. the one run per group the HTML report shows):
// parsing every run's matrices would cost more than the whole table.
void load_matrices(const store::Db& db, ReportInput& input, const std::vector<size_t>& indices);

// The ids of the selected runs, without reading any curve (for --export).
std::vector<std::string> select_run_ids(const store::Db& db, const Selection& sel, std::string* sweep_name);

}  // namespace hcx::report
