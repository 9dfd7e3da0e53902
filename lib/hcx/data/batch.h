// Batches as LibTorch tensors: the only torch-facing part of data/. Which
// windows a batch holds is decided by sampler.h; see there for the
// determinism contract.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "hcx/data/dataset.h"

namespace hcx::data {

// x, y: (B, T) int64 on the CPU, contiguous; y is x shifted by one token
// (y[b][t] = the token after x[b][t] in the stream). Move them to the device
// in the trainer.
struct Batch {
  at::Tensor x;
  at::Tensor y;
};

// Training micro-batch `micro` (0 .. train.grad_accum - 1) of optimizer step
// `step`, from d.train: d.batch_size windows of d.seq_len tokens. Depends only
// on (data, d.seed, step, micro). Safe to call concurrently.
Batch train_batch(const Dataset& d, int64_t step, int64_t micro = 0);

// The fixed validation batches of `set` (d.val or one of d.extra_val):
// d.eval_batches batches of d.batch_size windows, the same for every seed.
// Compute once and reuse at every evaluation.
std::vector<Batch> val_batches(const Dataset& d, const ValSet& set);

// The batch of windows at `starts` (sampler.h) of `tokens`.
Batch make_batch(const TokenSpan& tokens, const std::vector<int64_t>& starts, int64_t seq_len);

}  // namespace hcx::data
