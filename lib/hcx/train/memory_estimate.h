// Whether a run fits the machine, decided before anything is allocated
// (torch-free): parameters with their gradients and AdamW moments, plus the
// activations of one micro-batch (model/inspect.h's estimate per token),
// against what the device has free. A config that cannot fit is refused with
// the keys to change, instead of allocating until the OOM killer fires.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "hcx/config/run_config.h"

namespace hcx::train {

struct MemoryEstimate {
  double param_bytes = 0;       // weights, gradients and AdamW's two moments: 16 bytes per parameter (float32)
  double activation_bytes = 0;  // one micro-batch: train.batch_size x model.seq_len tokens
  double total() const { return param_bytes + activation_bytes; }
};

// The estimate for `cfg`; analytic (model::compute_stats), no allocation.
MemoryEstimate estimate_memory(const config::RunConfig& cfg);

// MemAvailable of /proc/meminfo in bytes; nullopt when it cannot be read.
std::optional<double> available_host_bytes();

// Empty when `cfg` fits in `available` bytes of `device_name` memory (e.g.
// "CPU memory (MemAvailable)"); otherwise the refusal, naming the estimate,
// what is available and the keys that drive the larger part, e.g.
// "model.n_layers=1000, model.d_model=8192: needs ~12.5 TiB (...), ...".
std::string memory_refusal(const config::RunConfig& cfg, double available, const std::string& device_name);

}  // namespace hcx::train
