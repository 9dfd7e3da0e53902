// Window starts for training and validation batches; copying windows out.
#include "hcx/data/sampler.h"

#include "hcx/data/rng.h"

namespace hcx::data {

namespace {
constexpr uint64_t kTrainDomain = 0x7472a1bULL;  // separates these hashes from any other use of the seed
}  // namespace

std::vector<int64_t> train_window_starts(uint64_t seed, int64_t step, int64_t micro, int64_t batch_size,
                                         int64_t seq_len, int64_t n_tokens) {
  const auto choices = static_cast<uint64_t>(n_tokens - seq_len);  // starts 0 .. n - T - 1
  std::vector<int64_t> starts(static_cast<size_t>(batch_size));
  for (int64_t b = 0; b < batch_size; ++b) {
    const uint64_t h = hash_key({kTrainDomain, seed, static_cast<uint64_t>(step), static_cast<uint64_t>(micro),
                                 static_cast<uint64_t>(b)});
    starts[static_cast<size_t>(b)] = static_cast<int64_t>(below(h, choices));
  }
  return starts;
}

std::vector<int64_t> val_window_starts(int64_t n_batches, int64_t batch_size, int64_t seq_len, int64_t n_tokens) {
  const int64_t count = n_batches * batch_size;
  const int64_t last = n_tokens - seq_len - 1;  // largest valid start
  std::vector<int64_t> starts(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    // i * last / (count - 1), in 128 bits: large streams times many windows overflow 64.
    const auto num = static_cast<unsigned __int128>(i) * static_cast<uint64_t>(last);
    starts[static_cast<size_t>(i)] = count > 1 ? static_cast<int64_t>(num / static_cast<uint64_t>(count - 1)) : 0;
  }
  return starts;
}

void fill_windows(const TokenSpan& tokens, const std::vector<int64_t>& starts, int64_t seq_len, int64_t* x,
                  int64_t* y) {
  for (size_t b = 0; b < starts.size(); ++b) {
    tokens.copy_to(starts[b], seq_len, x + b * seq_len);
    tokens.copy_to(starts[b] + 1, seq_len, y + b * seq_len);
  }
}

}  // namespace hcx::data
