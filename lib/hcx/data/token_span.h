// Token streams (plain C++): a read-only span of token ids stored as uint8
// (raw bytes of a text), uint16 or uint32 (nanoGPT's .bin layout: raw
// little-endian ids, no header), either owned in memory or memory-mapped from
// a file. The one owner of the token-file format.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace hcx::data {

enum class TokenDtype { kUint8, kUint16, kUint32 };

// Bytes per id: 1, 2 or 4.
int dtype_width(TokenDtype dtype);
// "uint8", "uint16", "uint32".
const char* to_string(TokenDtype dtype);
// "uint16" or "uint32" (the dtypes of token files). Throws Error(kBadInput)
// "<key>: expected uint16 or uint32, got \"...\"" otherwise.
TokenDtype parse_token_dtype(const std::string& name, const std::string& key = "data.token_dtype");

// An immutable view of `size()` consecutive token ids. Copies share the
// storage (the memory map stays open while any copy lives). Reading from
// several threads at once is safe.
class TokenSpan {
 public:
  TokenSpan() = default;

  // A copy of `ids` (each must be >= 0), stored in the narrowest dtype that
  // holds them (the synthetic corpus takes one byte per token).
  static TokenSpan from_ids(const std::vector<int32_t>& ids);

  // Maps `path` read-only. `what` prefixes every error message, e.g.
  // "data.path: corpus.bin". Throws Error(kBadInput):
  //   "<what>: file not found"
  //   "<what>: file is empty"
  //   "<what>: N bytes is not a multiple of W (DTYPE ids)"
  // and Error(kIo) "<what>: cannot read: <reason>" when it cannot be mapped.
  static TokenSpan map_file(const std::string& path, TokenDtype dtype, const std::string& what);

  int64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  TokenDtype dtype() const { return dtype_; }

  int32_t operator[](int64_t i) const {
    switch (dtype_) {
      case TokenDtype::kUint8: return data_[i];
      case TokenDtype::kUint16: return reinterpret_cast<const uint16_t*>(data_)[i];
      case TokenDtype::kUint32: return static_cast<int32_t>(reinterpret_cast<const uint32_t*>(data_)[i]);
    }
    return 0;
  }

  // Tokens [begin, end) of this span, sharing its storage.
  TokenSpan slice(int64_t begin, int64_t end) const;

  // Writes tokens [begin, begin + n) to out[0..n), widened to int64. The
  // caller guarantees begin + n <= size().
  void copy_to(int64_t begin, int64_t n, int64_t* out) const;

  std::vector<int32_t> to_vector() const;

  // Position of the first id >= limit, or -1 when every id is below it.
  int64_t first_id_at_least(int64_t limit) const;

 private:
  std::shared_ptr<const void> keep_;  // the vector or the mapping
  const unsigned char* data_ = nullptr;
  TokenDtype dtype_ = TokenDtype::kUint16;
  int64_t size_ = 0;
};

// Throws Error(kBadInput) "<what>: token id ID at position P is >= model.vocab_size V"
// for the first id that does not fit the model's vocabulary.
void check_vocab(const TokenSpan& tokens, int64_t vocab_size, const std::string& what);

// Writes `ids` as a token file (raw little-endian ids of `dtype`, no header)
// through a temporary file and a rename, so readers never see half a file.
// Throws Error(kBadInput) "<path>: token id ID at position P does not fit DTYPE"
// and Error(kIo) "<path>: cannot write: <reason>".
void write_token_file(const std::string& path, const std::vector<int32_t>& ids, TokenDtype dtype);

}  // namespace hcx::data
