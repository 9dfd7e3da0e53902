// Which windows of a token stream make up a batch (plain C++). A training
// batch depends only on (seed, step, micro-batch): each row's window start is
// a counter-based hash of (seed, step, micro, row), never a draw from a
// stateful stream, so a resumed run sees exactly the batches an uninterrupted
// one would, and batches can be built in any order or in parallel.
// Validation windows depend on no seed at all: they are spread evenly over
// the validation stream, so every run with the same data config and batch
// geometry evaluates on the same tokens and val losses compare across seeds.
#pragma once

#include <cstdint>
#include <vector>

#include "hcx/data/token_span.h"

namespace hcx::data {

// Start offsets of the `batch_size` windows of training micro-batch `micro`
// of optimizer step `step`: each uniform in [0, n_tokens - seq_len - 1], so
// that x = tokens[s, s+T) and y = tokens[s+1, s+T+1) fit. Requires
// n_tokens >= seq_len + 1.
std::vector<int64_t> train_window_starts(uint64_t seed, int64_t step, int64_t micro, int64_t batch_size,
                                         int64_t seq_len, int64_t n_tokens);

// Start offsets of `n_batches` * `batch_size` validation windows (batch i is
// starts[i*B, (i+1)*B)), spread evenly from 0 to n_tokens - seq_len - 1: they
// overlap only when the stream holds fewer than that many whole windows.
// Requires n_tokens >= seq_len + 1.
std::vector<int64_t> val_window_starts(int64_t n_batches, int64_t batch_size, int64_t seq_len, int64_t n_tokens);

// Fills x and y (row-major, starts.size() * seq_len each) with the windows:
// x[b][t] = tokens[starts[b] + t], y[b][t] = tokens[starts[b] + t + 1].
void fill_windows(const TokenSpan& tokens, const std::vector<int64_t>& starts, int64_t seq_len, int64_t* x,
                  int64_t* y);

}  // namespace hcx::data
