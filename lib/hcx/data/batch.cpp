// Batches as int64 tensors, filled straight from the token stream.
#include "hcx/data/batch.h"

#include <ATen/ops/empty.h>

#include "hcx/data/sampler.h"

namespace hcx::data {

Batch make_batch(const TokenSpan& tokens, const std::vector<int64_t>& starts, int64_t seq_len) {
  const auto rows = static_cast<int64_t>(starts.size());
  Batch batch{at::empty({rows, seq_len}, at::kLong), at::empty({rows, seq_len}, at::kLong)};  // (B, T) each
  fill_windows(tokens, starts, seq_len, batch.x.data_ptr<int64_t>(), batch.y.data_ptr<int64_t>());
  return batch;
}

Batch train_batch(const Dataset& d, int64_t step, int64_t micro) {
  const auto starts = train_window_starts(d.seed, step, micro, d.batch_size, d.seq_len, d.train.size());
  return make_batch(d.train, starts, d.seq_len);
}

std::vector<Batch> val_batches(const Dataset& d, const ValSet& set) {
  const auto starts = val_window_starts(d.eval_batches, d.batch_size, d.seq_len, set.tokens.size());
  std::vector<Batch> batches;
  for (int64_t i = 0; i < d.eval_batches; ++i) {
    const auto first = starts.begin() + i * d.batch_size;
    batches.push_back(make_batch(set.tokens, std::vector<int64_t>(first, first + d.batch_size), d.seq_len));
  }
  return batches;
}

}  // namespace hcx::data
