// The checkpoint format (STYLE.md rule 12): model, optimizer and the
// trainer's own state in one file, written to a temporary file and renamed,
// so a reader sees the old checkpoint or the new one, never half of one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

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
};

// The checkpoint file of a run in `dir`.
std::filesystem::path checkpoint_path(const std::filesystem::path& dir);

// Writes model, optimizer and state to `path` atomically (tmp + rename).
// `config_hash` identifies the run; load_checkpoint refuses another run's file.
// Throws Error(kIo) naming the path when it cannot write.
void save_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer, const TrainState& state,
                     const std::string& config_hash);

// Reads a checkpoint written by save_checkpoint into `model`, `optimizer` and
// `state`. Returns false when `path` does not exist. Throws Error(kIo) when
// the file is unreadable, of another format version, or of another run.
bool load_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer, TrainState& state,
                     const std::string& config_hash);

}  // namespace hcx::train
