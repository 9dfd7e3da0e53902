// Tokenizers (plain C++): raw bytes, or a SentencePiece model driven through
// the helper program hcx-spm. libsentencepiece must never be linked into a
// binary that links LibTorch (their bundled protobufs clash and crash at load
// time), so hcx runs hcx-spm as a child process for training, encoding and
// reading a model's vocabulary size.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "hcx/data/token_span.h"

namespace hcx::data {

// The path of hcx-spm. Looked for, in order: $HCX_SPM (an explicit path);
// next to the running binary (/proc/self/exe's directory: the build puts it
// beside hcx, an install beside it in bin/); <that directory>/../apps/hcx/
// (test executables in build/tests/); each directory of $PATH. Throws
// Error(kIo) "hcx-spm not found (looked in ...); build it with the project
// (needs libsentencepiece-dev) or set HCX_SPM".
std::string find_spm_helper();

// Runs hcx-spm with `args` and returns its stdout. On failure throws
// Error(kBadInput) (helper exit 2) or Error(kIo), "<what>: <helper's message>".
std::string run_spm_helper(const std::vector<std::string>& args, const std::string& what);

class Tokenizer {
 public:
  // 256 ids, one per byte.
  static Tokenizer bytes();
  // A SentencePiece model file; reads its vocabulary size through hcx-spm.
  // Throws Error(kBadInput) "<key>: <path>: file not found" or
  // "<key>: <path>: not a SentencePiece model (...)".
  static Tokenizer sentencepiece(const std::string& model_path, const std::string& key = "data.tokenizer");
  // "bytes" or a model path.
  static Tokenizer open(const std::string& spec, const std::string& key = "data.tokenizer");

  bool is_bytes() const { return model_path_.empty(); }
  const std::string& model_path() const { return model_path_; }  // empty for bytes
  std::string name() const { return is_bytes() ? "bytes" : model_path_; }
  int64_t vocab_size() const { return vocab_size_; }

  // Token ids of each text, encoded separately. Bytes: one id per byte.
  // SentencePiece: one hcx-spm run for all texts; newlines and tabs inside a
  // text count as spaces (the model's normaliser turns them into spaces
  // anyway), leading and trailing spaces are dropped, as in spm_encode.
  std::vector<std::vector<int32_t>> encode(const std::vector<std::string>& texts) const;

  // Ids that stand for "the start of a text" when a choice is scored with an
  // empty context (BLiMP pairs): bytes: "\n"; SentencePiece: the token a
  // sentence-final "." gets in running text. Never empty.
  const std::vector<int32_t>& boundary() const { return boundary_; }

 private:
  std::string model_path_;
  int64_t vocab_size_ = 256;
  std::vector<int32_t> boundary_{'\n'};
};

// Trains a SentencePiece model of `vocab` pieces on the text file `text`
// (model type "bpe", "unigram", "char" or "word"); writes PREFIX.model and
// PREFIX.vocab and returns the .model path. Errors from hcx-spm (missing file,
// vocabulary too large for the text) are Error(kBadInput) naming `text`.
std::string train_sentencepiece(const std::string& text, int64_t vocab, const std::string& prefix,
                                const std::string& model_type = "bpe");

// Encodes the text file `text` into the token file `out` (raw little-endian
// ids of `dtype`, no header), written through a temporary file and a rename.
// Bytes: one id per byte. SentencePiece: line by line, newlines not encoded;
// with a non-empty `index`, also writes hcx-spm's line index there. Returns
// the number of tokens. Throws Error(kBadInput) for a missing or empty text,
// or a vocabulary that does not fit `dtype`.
int64_t encode_text_file(const Tokenizer& tok, const std::string& text, const std::string& out, TokenDtype dtype,
                         const std::string& index = "");

// A text file as tokens, ready to read.
struct EncodedText {
  TokenSpan tokens;
  int64_t text_bytes = 0;  // size of the text file
  // SentencePiece only: (byte offset, first token) of each line, then
  // (text_bytes, token count). Empty for bytes (token i is byte i).
  std::vector<std::pair<int64_t, int64_t>> line_index;
};

// The text file `text` as tokens of `tok`. Bytes: the file itself, memory-
// mapped. SentencePiece: encoded once through hcx-spm into
// `cache_dir`/tokens/<stem>-<hash>.bin (+ .idx), the hash covering the text's
// absolute path, size and mtime and the model's bytes, then memory-mapped;
// concurrent callers may both encode, and each renames its complete result
// into place. `what` prefixes errors ("data.path: corpus.txt"): Error(kBadInput)
// "<what>: file not found", "<what>: file is empty".
EncodedText open_text(const Tokenizer& tok, const std::string& text, const std::string& cache_dir,
                      const std::string& what);

}  // namespace hcx::data
