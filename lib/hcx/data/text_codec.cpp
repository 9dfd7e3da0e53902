// Prompts to ids and ids to text (see text_codec.h). The SentencePiece model
// is read with a few lines of protobuf wire format instead of linking
// libsentencepiece, which must stay out of LibTorch binaries (tokenizer.h).
#include "hcx/data/text_codec.h"

#include <fstream>
#include <map>
#include <sstream>

#include "hcx/error.h"

namespace hcx::data {

namespace {

constexpr const char* kSpaceMark = "\xE2\x96\x81";      // U+2581 "▁", SentencePiece's word boundary
constexpr const char* kUnknownSurface = " \xE2\x81\x87 ";  // " ⁇ ", what spm_decode prints for <unk>
constexpr const char* kReplacement = "\xEF\xBF\xBD";       // U+FFFD

// A protobuf message's fields, read one at a time (wire format: varint tags,
// wire types 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32).
class WireReader {
 public:
  WireReader(const char* p, const char* end) : p_(p), end_(end) {}
  bool done() const { return p_ >= end_; }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) throw std::runtime_error("truncated varint");
      const auto b = static_cast<unsigned char>(*p_++);
      v |= uint64_t(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    throw std::runtime_error("varint too long");
  }
  // The next field: its number and wire type; for wire type 2 also its bytes.
  struct Field {
    uint64_t number = 0;
    int wire = 0;
    uint64_t value = 0;               // wire type 0
    const char* data = nullptr;       // wire type 2
    size_t size = 0;
  };
  Field next() {
    Field f;
    const uint64_t tag = varint();
    f.number = tag >> 3;
    f.wire = static_cast<int>(tag & 7);
    switch (f.wire) {
      case 0: f.value = varint(); break;
      case 1: skip(8); break;
      case 2: {
        f.size = static_cast<size_t>(varint());
        f.data = p_;
        skip(f.size);
        break;
      }
      case 5: skip(4); break;
      default: throw std::runtime_error("unsupported wire type " + std::to_string(f.wire));
    }
    return f;
  }

 private:
  void skip(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) throw std::runtime_error("truncated field");
    p_ += n;
  }
  const char* p_;
  const char* end_;
};

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

// "<0x41>" -> 'A'; nullopt for any other piece.
std::optional<char> byte_piece(const std::string& piece) {
  if (piece.size() != 6 || piece.compare(0, 3, "<0x") != 0 || piece[5] != '>') return std::nullopt;
  try {
    return static_cast<char>(std::stoi(piece.substr(3, 2), nullptr, 16));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

SentencePieces read_sentencepiece_pieces(const std::string& model_path) {
  std::ifstream in(model_path, std::ios::binary);
  if (!in) throw bad_input(model_path + ": file not found");
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string bytes = ss.str();
  SentencePieces out;
  try {
    WireReader model(bytes.data(), bytes.data() + bytes.size());
    while (!model.done()) {
      const auto f = model.next();
      if (f.number != 1 || f.wire != 2) continue;  // ModelProto.pieces only
      WireReader piece(f.data, f.data + f.size);
      std::string text;
      auto type = SentencePieces::Type::kNormal;
      while (!piece.done()) {
        const auto g = piece.next();
        if (g.number == 1 && g.wire == 2) text.assign(g.data, g.size);
        if (g.number == 3 && g.wire == 0) type = static_cast<SentencePieces::Type>(g.value);
      }
      out.pieces.push_back(std::move(text));
      out.types.push_back(type);
    }
  } catch (const std::exception& e) {
    throw bad_input(model_path + ": not a SentencePiece model (" + e.what() + ")");
  }
  if (out.pieces.empty()) throw bad_input(model_path + ": not a SentencePiece model (no pieces)");
  return out;
}

TextCodec TextCodec::for_run(const config::RunConfig& cfg) {
  TextCodec c;
  if (cfg.data.source == "synthetic") {
    c.synthetic_ = synthetic_vocab(cfg.model.vocab_size);
    return c;
  }
  c.tokenizer_ = Tokenizer::open(cfg.data.tokenizer, "data.tokenizer");
  if (!c.tokenizer_->is_bytes()) c.pieces_ = read_sentencepiece_pieces(c.tokenizer_->model_path());
  return c;
}

std::vector<int32_t> TextCodec::encode(const std::string& text, const std::string& what) const {
  if (tokenizer_) return text.empty() ? std::vector<int32_t>{} : tokenizer_->encode({text}).front();
  std::map<std::string, int32_t> ids;
  for (int32_t id = 0; id < synthetic_->size; ++id) ids[token_name(*synthetic_, id)] = id;
  std::vector<int32_t> out;
  std::istringstream words(text);
  for (std::string w; words >> w;) {
    const auto it = ids.find(w);
    if (it == ids.end()) {
      throw bad_input(what + ": '" + w + "' is not a token of the synthetic language (tokens are names such as " +
                      "<doc> set k0 v0 get dsg0 nsg0 vsg0 . ( ); `hcx data sample` prints some)");
    }
    out.push_back(it->second);
  }
  return out;
}

std::string TextCodec::decode(const std::vector<int32_t>& ids, bool continues) const {
  std::string s;
  if (synthetic_) {
    s = render(*synthetic_, ids);
    return continues && !s.empty() ? " " + s : s;
  }
  if (tokenizer_->is_bytes()) {
    for (int32_t id : ids) s += id >= 0 && id < 256 ? std::string(1, static_cast<char>(id)) : kReplacement;
    return s;
  }
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= pieces_.pieces.size()) {
      s += kReplacement;  // the model's vocabulary may be larger than the tokenizer's
      continue;
    }
    const std::string& piece = pieces_.pieces[static_cast<size_t>(id)];
    switch (pieces_.types[static_cast<size_t>(id)]) {
      case SentencePieces::Type::kControl:
      case SentencePieces::Type::kUnused: break;
      case SentencePieces::Type::kUnknown: s += kUnknownSurface; break;
      case SentencePieces::Type::kByte: s += byte_piece(piece).value_or('?'); break;
      default: s += replace_all(piece, kSpaceMark, " ");
    }
  }
  if (!continues && !s.empty() && s[0] == ' ') s.erase(0, 1);  // the dummy prefix of the first word
  return s;
}

std::vector<int32_t> TextCodec::start() const {
  if (synthetic_) return {SyntheticVocab::kDoc};
  return tokenizer_->boundary();
}

std::string TextCodec::name() const { return synthetic_ ? "synthetic" : tokenizer_->name(); }

}  // namespace hcx::data
