// A run's data (plain C++): the training stream, the validation split, extra
// validation texts and the tokenizer, opened and checked from the run config
// before training starts. Batches are cut from it by sampler.h (torch-free)
// and batch.h (LibTorch tensors).
//
// Sources (data.source):
//   synthetic  generate_synthetic(data.synthetic_tokens, data.difficulty), a
//              pure function of the data config (synthetic.h); no tokenizer.
//   text       data.path tokenised by data.tokenizer: "bytes" (the file is
//              memory-mapped, token = byte) or a SentencePiece model (encoded
//              once through hcx-spm into the token cache, then mapped).
//   tokens     data.path holds raw little-endian ids of data.token_dtype, no
//              header (nanoGPT's .bin), memory-mapped. data.tokenizer should
//              name the tokenizer that produced it: tasks and extra_val texts
//              are tokenised with it.
// Split: the last round(n * data.val_fraction) of the n tokens are validation,
// the rest training (for every source, the synthetic corpus included: its tail
// documents are drawn like the others but never trained on). For
// SentencePiece text the split moves forward to the next line start, so the
// validation text's byte count, and hence bits per byte, is exact.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hcx/config/run_config.h"
#include "hcx/data/token_span.h"
#include "hcx/data/tokenizer.h"

namespace hcx::data {

// $HCX_CACHE_DIR when set, else "results/cache" (relative to the working
// directory, next to the default database).
std::string default_cache_dir();

struct DataOptions {
  std::string cache_dir;  // SentencePiece token cache; empty: default_cache_dir()
};

// A held-out token stream.
struct ValSet {
  std::string name;  // "val", or the eval.extra_val name
  TokenSpan tokens;
  // Text bytes per token of this stream, for bits per byte =
  // loss_nats / ln 2 / bytes_per_token: 1 for bytes; SentencePiece: the
  // stream's text bytes / its tokens; none for synthetic and pre-tokenised data.
  std::optional<double> bytes_per_token;
};

struct Dataset {
  std::string source;                  // data.source
  TokenSpan train;                     // training split
  ValSet val;                          // validation split (name "val")
  std::vector<ValSet> extra_val;       // eval.extra_val, in order, each file whole
  std::optional<Tokenizer> tokenizer;  // the run's tokenizer; empty for synthetic
  // Batch geometry, from the config.
  uint64_t seed = 0;         // seed: orders the training batches
  int64_t batch_size = 16;   // train.batch_size: B
  int64_t seq_len = 64;      // model.seq_len: T
  int64_t eval_batches = 4;  // eval.batches: validation batches per set
};

// Opens and checks everything the run config's data keys name, before any
// training. Every problem is Error(kBadInput) naming the key and the file:
//   "data.path: <path>: file not found" / "file is empty"
//   "data.path: <path>: N bytes is not a multiple of 2 (uint16 ids)"
//   "data.path: <path>: token id ID at position P is >= model.vocab_size V"
//   "data.path: <path>: N tokens, fewer than one sequence (model.seq_len + 1 = T+1)"
//   "data.path: <path>: the validation split (data.val_fraction F) has N tokens, fewer than one sequence (...)"
//   "data.path: <path>: the training split has N tokens, fewer than one sequence (...)"
//   "data.tokenizer: <model>: a vocabulary of N pieces is larger than model.vocab_size V"
//   "data.synthetic_tokens: ..." / "model.vocab_size: the synthetic language needs at least 48 ids, got N"
//   "eval.extra_val[i] (<name>): <path>: ..." for extra validation texts.
// Thread-compatible: the result is immutable and safe to read from many threads.
Dataset open_dataset(const config::RunConfig& cfg, const DataOptions& opts = {});

}  // namespace hcx::data
