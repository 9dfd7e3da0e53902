// `hcx export`: a trained run's weights as files other tools load
// (train/export.h). The run is found by id in the results database
// (trained_run.h). Torch-free header.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace hcx::run {

struct ExportCommandOptions {
  std::string run_id;
  std::string out_dir;               // -o; empty: ./export-<run-id>
  int64_t step = -1;                 // --step; < 0: the newest checkpoint
  std::string db = "results/hcx.db";
  std::string results_dir;           // checkpoints/ live here; empty: the database's folder
  std::string logits_for;            // testing aid (train::ExportRequest::logits_for)
};

// Writes the export and prints one line about it to `out`; returns 0.
// Throws Error(kBadInput) for an unknown run, a run without a checkpoint,
// a --step without one (the message lists those there are), or an -o folder
// that is not an earlier export; Error(kIo) when reading or writing fails.
int export_command(const ExportCommandOptions& opts, std::ostream& out);

}  // namespace hcx::run
