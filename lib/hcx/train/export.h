// A trained run's weights out of hcx, in the formats other tools load
// (`hcx export`): DIR/model.safetensors (model/safetensors.h) with every
// parameter under its hcx name (model/param_specs.h), and DIR/config.json
// with the run config and what bench/reference_gpt.py's load(DIR) needs to
// rebuild the model in PyTorch. Also: choosing a run's checkpoint by step,
// shared with `hcx sample`. Torch-free header; LibTorch lives in export.cpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "hcx/config/run_config.h"

namespace hcx::train {

// One checkpoint file of a run and the step it holds.
struct CheckpointChoice {
  std::filesystem::path path;
  int64_t step = -1;
};

// The checkpoint of step `step` in `dir` (a run's checkpoints/<run-id>/), or
// the newest when `step` < 0. Throws Error(kBadInput) when `dir` holds no
// checkpoint ("run ID has no checkpoint in DIR ...") or none of that step
// (the message lists the steps there are).
CheckpointChoice choose_checkpoint(const std::filesystem::path& dir, int64_t step, const std::string& run_id);

struct ExportRequest {
  config::RunConfig cfg;          // the run's config, as stored with it
  std::string run_id;             // the checkpoint must be this run's
  CheckpointChoice checkpoint;    // from choose_checkpoint
  std::filesystem::path out_dir;  // the folder to write (replaced when it is an earlier export)
  nlohmann::json info = nlohmann::json::object();  // further fields of config.json (versions, database)
  // Testing aid (hcx export --logits-for): a JSON file {"tokens": [[id, ...], ...]}
  // (B rows of T ids); the model's logits for it, (B, T, V), go to
  // out_dir/logits.json as {"tokens": .., "logits": ..}. Empty: none.
  std::string logits_for;
};

struct ExportResult {
  std::filesystem::path dir;
  int64_t step = 0;     // the exported checkpoint's step
  int64_t tensors = 0;  // parameters written
  int64_t params = 0;   // their elements
  int64_t bytes = 0;    // size of model.safetensors
};

// Loads the checkpoint's weights into the run's model (on the CPU) and
// writes out_dir/model.safetensors and out_dir/config.json. The folder is
// written (and fsynced) under a temporary name beside it, .<name>.tmp.<pid>,
// and renamed into place, so a crash never leaves half an export at out_dir:
// there is the earlier export (for an instant while it is replaced, under
// .<name>.old.<pid>) or the new one; a crashed writer's temporary folder stays.
// Throws Error(kBadInput) when out_dir exists and is not an hcx export, or
// logits_for is unreadable or out of range; Error(kIo) when the checkpoint
// cannot be read or the folder cannot be written (the temporary folder is
// then removed).
ExportResult export_model(const ExportRequest& req);

}  // namespace hcx::train
