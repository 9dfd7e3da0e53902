// The checkpoint format (owned by this module alone): model, optimizer and the
// trainer's own state in one file per step, <dir>/step-<8 digits>.pt.
//
// Durability: a checkpoint is written to a temporary name of this process,
// fsynced, renamed into place and its folder fsynced, so after a crash or a
// power cut a reader finds the old file or the new one, never half of one;
// a failed write (no space, I/O error) removes the temporary file and leaves
// the earlier checkpoints as they were. Free space is checked first.
//
// Ownership: each file records the database that holds its history (its
// db_id, store/db.h) and the attempt that wrote it; the trainer resumes only
// from a checkpoint of its own database whose rows that database holds.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

namespace hcx::train {

// 2: AdamW's moments by (group, position), readable by LibTorch 1.13 and 2.x
// alike; 1 (torch::optim's own layout) is still read.
constexpr int64_t kCheckpointFormat = 2;

// Everything besides weights and optimizer moments that a resumed run needs
// to continue value for value: counters, best figures and the windows of the
// spike detectors. Kept as JSON so new fields need no format change.
struct TrainState {
  int64_t step = 0;    // optimizer steps completed
  int64_t tokens = 0;  // training tokens seen
  nlohmann::json extra = nlohmann::json::object();  // trainer-owned figures (see trainer.cpp)
  std::string db_id;   // the database that holds this run's rows ("" in files written before it was recorded)
  int64_t attempt = 0; // runs.attempt of the process that wrote the file (0: unknown)
};

// <dir>/step-<step as 8 digits>.pt
std::filesystem::path checkpoint_path(const std::filesystem::path& dir, int64_t step);

// A checkpoint file of `dir` and its step (from its name; -1 for the single
// checkpoint.pt of hcx before per-step files, read as the oldest).
struct CheckpointFile {
  std::filesystem::path path;
  int64_t step = -1;
};

// The checkpoints of `dir`, newest first; empty when `dir` does not exist.
// Temporary files of writers are not checkpoints and are not listed.
std::vector<CheckpointFile> list_checkpoints(const std::filesystem::path& dir);

// Deletes all but the newest `keep` (>= 1) checkpoints of `dir`, and the
// temporary files that writers which are no longer running left behind.
void prune_checkpoints(const std::filesystem::path& dir, int64_t keep);

// Moves `file` into <its dir>/set-aside/ (keeping its name; an earlier file
// of that name there is replaced) and returns the new path. Throws Error(kIo).
std::filesystem::path set_aside(const std::filesystem::path& file);

// What a checkpoint says about itself, read without touching a model.
struct CheckpointMeta {
  int64_t step = 0;
  std::string config_hash, db_id, libtorch;
  int64_t attempt = 0;
};

// Reads the meta record of `path`. Throws Error(kIo) naming the path when the
// file cannot be read (truncated, corrupt, of an unknown format version).
CheckpointMeta read_checkpoint_meta(const std::filesystem::path& path);

// Writes model, optimizer and state to `path` durably (see the top of this
// file). `config_hash` identifies the run; load_checkpoint refuses another
// run's file. Throws Error(kIo) naming the path when it cannot write (the
// message says "no space left" when that is why), having removed its
// temporary file; an existing file at `path` is then unchanged.
void save_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer, const TrainState& state,
                     const std::string& config_hash);

// Reads a checkpoint written by save_checkpoint into `model`, `optimizer` and
// `state`. Returns false when `path` does not exist. Throws Error(kIo) when
// the file is unreadable, of another format version, or of another run.
bool load_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer, TrainState& state,
                     const std::string& config_hash);

// Reads only the weights of the checkpoint at `path` into `model` (whose
// parameters are on the CPU: tensors written from another device are mapped
// to it), for `hcx export` and `hcx sample`; the optimizer state is not read.
// Returns the file's meta record (its step is the real one, also for the
// legacy checkpoint.pt). Throws Error(kIo) naming the path when the file is
// missing, unreadable, of another format version, of another run than
// `config_hash`, or does not fit the model.
CheckpointMeta load_model_weights(const std::filesystem::path& path, torch::nn::Module& model,
                                  const std::string& config_hash);

}  // namespace hcx::train
