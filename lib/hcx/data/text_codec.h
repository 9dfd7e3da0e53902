// Text to a run's token ids and back, for `hcx sample`: the run's tokenizer
// (tokenizer.h) encodes the prompt, and ids are turned back into text here.
//   bytes          one id per byte; ids above 255 (a token file with a larger
//                  vocabulary) print as U+FFFD
//   SentencePiece  the pieces of the model file, read directly (its protobuf:
//                  ModelProto.pieces = field 1, SentencePiece.piece = 1,
//                  .type = 3), so decoding needs no hcx-spm; "▁" is a space,
//                  <0xNN> byte pieces are that byte, control pieces are empty
//   synthetic      the language's token names separated by spaces
//                  (synthetic.h token_name), in both directions
// Plain C++ (SentencePiece encoding goes through hcx-spm as in tokenizer.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hcx/config/run_config.h"
#include "hcx/data/synthetic.h"
#include "hcx/data/tokenizer.h"

namespace hcx::data {

// The pieces of a SentencePiece model file, by id. Throws Error(kBadInput)
// "<path>: file not found" or "<path>: not a SentencePiece model (...)".
struct SentencePieces {
  enum class Type { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };
  std::vector<std::string> pieces;
  std::vector<Type> types;
};
SentencePieces read_sentencepiece_pieces(const std::string& model_path);

class TextCodec {
 public:
  // The codec of a run: the synthetic language for data.source "synthetic",
  // else data.tokenizer. Throws what Tokenizer::open throws.
  static TextCodec for_run(const config::RunConfig& cfg);

  // The ids of `text`. Throws Error(kBadInput) naming `what` for a word that
  // is no token of the synthetic language.
  std::vector<int32_t> encode(const std::string& text, const std::string& what = "--prompt") const;

  // The text of `ids`. `continues`: the ids follow earlier text, so a leading
  // word boundary is kept as a space (SentencePiece's "▁", the synthetic
  // language's separator); at the start of a text it is dropped.
  std::string decode(const std::vector<int32_t>& ids, bool continues) const;

  // What a generation starts from when the prompt is empty: the synthetic
  // language's <doc>, the tokenizer's boundary() otherwise (bytes: "\n").
  std::vector<int32_t> start() const;

  std::string name() const;  // "bytes", "synthetic" or the SentencePiece model path

 private:
  std::optional<Tokenizer> tokenizer_;       // bytes or SentencePiece
  std::optional<SyntheticVocab> synthetic_;  // the synthetic language
  SentencePieces pieces_;                    // SentencePiece only
};

}  // namespace hcx::data
