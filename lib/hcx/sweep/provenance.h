// What a sweep checks about the files and the provenance of its runs (plain
// C++): every input file of every run is readable before anything is
// written, and completed runs trained by another build or on other data are
// found (grid::PlanOptions, --retrain-stale).
#pragma once

#include <string>

#include "hcx/grid/expand.h"
#include "hcx/grid/plan.h"
#include "hcx/store/db.h"

namespace hcx::sweep {

// Throws Error(kBadInput) when a run of `ex` names an input file that cannot
// be read (config::check_input_files): one line per distinct problem,
// "<experiment>: run <id> (<variant>): <key>: <path>: file not found", with
// " (and N more runs)" when other runs share it.
void check_sweep_inputs(const grid::Expansion& ex, const std::string& experiment);

// `lookup` with StoredRun::trained filled from the runs' recorded provenance
// in `db` (read once, when made); `db` may be null (no database yet).
grid::StatusLookup with_provenance(grid::StatusLookup lookup, const store::Db* db);

// PlanOptions for this binary: build = config::this_build(), data_id =
// config::data_id (the files are hashed once per process).
grid::PlanOptions plan_options(bool retry_failed, bool retrain_stale, const grid::FlopsPerToken& flops);

}  // namespace hcx::sweep
