// tiny_config(): the tiny GPT of the model and train tests (d_model 16,
// 2 heads), with the depth, context and vocabulary each suite needs.
#pragma once

#include <cstdint>

#include "hcx/config/run_config.h"

namespace hcx::test {

// d_model 16, n_heads 2 and the three sizes given; every other field (seed,
// residual, data, train, eval) keeps its RunConfig default.
inline config::RunConfig tiny_config(int64_t n_layers, int64_t seq_len, int64_t vocab_size) {
  config::RunConfig c;
  c.model.d_model = 16;
  c.model.n_layers = n_layers;
  c.model.n_heads = 2;
  c.model.seq_len = seq_len;
  c.model.vocab_size = vocab_size;
  return c;
}

}  // namespace hcx::test
