// A trained run found by its id, for the subcommands that use its weights
// (`hcx export`, `hcx sample`): its stored config and its checkpoint folder.
// Torch-free.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "hcx/config/run_config.h"
#include "hcx/run_status.h"

namespace hcx::run {

struct TrainedRun {
  std::string id;                        // the full run id
  config::RunConfig cfg;                 // runs.config_json, parsed
  RunStatus status = RunStatus::kPending;  // runs.status
  std::filesystem::path checkpoint_dir;  // <results>/checkpoints/<id>
};

// Finds run `run_id` (the full id, or a prefix of at least 4 characters that
// only one run has) in the database `db`, opened read-only; `results_dir`
// holds checkpoints/ (empty: the database's folder, as for `hcx run`).
// Throws Error(kBadInput) when there is no database at `db`, no such run
// (or the prefix is ambiguous: the message lists the matches), Error(kIo)
// when the database cannot be read.
TrainedRun find_trained_run(const std::string& run_id, const std::string& db, const std::string& results_dir);

// Logs a warning when `run` is not completed (its weights are those of
// checkpoint step `step`, not of the end of training).
void warn_if_unfinished(const TrainedRun& run, int64_t step);

}  // namespace hcx::run
