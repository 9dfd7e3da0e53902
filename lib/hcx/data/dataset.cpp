// Opening a run's data: sources, split, extra validation texts, checks.
#include "hcx/data/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "hcx/data/synthetic.h"
#include "hcx/error.h"

namespace hcx::data {

namespace {

std::string one_sequence(int64_t seq_len) {
  return "fewer than one sequence (model.seq_len + 1 = " + std::to_string(seq_len + 1) + ")";
}

std::string fraction(double f) {
  std::string s = std::to_string(f);
  while (s.size() > 1 && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

// Where the training split ends: the last round(n * val_fraction) tokens are validation.
int64_t split_point(int64_t n, double val_fraction) {
  return n - std::llround(static_cast<double>(n) * val_fraction);
}

// The run's tokenizer, checked against the model's vocabulary.
Tokenizer open_tokenizer(const config::RunConfig& cfg) {
  Tokenizer tok = Tokenizer::open(cfg.data.tokenizer, "data.tokenizer");
  if (tok.vocab_size() > cfg.model.vocab_size)
    throw bad_input("data.tokenizer: " + tok.name() + ": a vocabulary of " + std::to_string(tok.vocab_size()) +
                    (tok.is_bytes() ? " bytes" : " pieces") + " is larger than model.vocab_size " +
                    std::to_string(cfg.model.vocab_size));
  return tok;
}

// Bytes per token of tokens [from, end) of an encoded text.
std::optional<double> bytes_per_token(const EncodedText& enc, int64_t from_byte, int64_t tokens) {
  if (tokens <= 0) return std::nullopt;
  return static_cast<double>(enc.text_bytes - from_byte) / static_cast<double>(tokens);
}

void split_stream(Dataset& d, const TokenSpan& all, const config::RunConfig& cfg, const std::string& what) {
  const int64_t n = all.size(), seq = cfg.model.seq_len;
  if (n < seq + 1) throw bad_input(what + ": " + std::to_string(n) + " tokens, " + one_sequence(seq));
  const int64_t split = split_point(n, cfg.data.val_fraction);
  d.train = all.slice(0, split);
  d.val.tokens = all.slice(split, n);
}

void check_split(const Dataset& d, const config::RunConfig& cfg, const std::string& what) {
  const int64_t seq = cfg.model.seq_len;
  if (d.val.tokens.size() < seq + 1)
    throw bad_input(what + ": the validation split (data.val_fraction " + fraction(cfg.data.val_fraction) + ") has " +
                    std::to_string(d.val.tokens.size()) + " tokens, " + one_sequence(seq));
  if (d.train.size() < seq + 1)
    throw bad_input(what + ": the training split has " + std::to_string(d.train.size()) + " tokens, " +
                    one_sequence(seq));
}

void open_synthetic(Dataset& d, const config::RunConfig& cfg) {
  const SyntheticVocab vocab = synthetic_vocab(cfg.model.vocab_size);
  const TokenSpan all = TokenSpan::from_ids(generate_synthetic(vocab, cfg.data.difficulty, cfg.data.synthetic_tokens));
  const std::string what = "data.synthetic_tokens: " + std::to_string(cfg.data.synthetic_tokens);
  split_stream(d, all, cfg, what);
  check_split(d, cfg, what);
}

void open_text_source(Dataset& d, const config::RunConfig& cfg, const std::string& cache_dir) {
  const std::string what = "data.path: " + cfg.data.path;
  const EncodedText enc = open_text(*d.tokenizer, cfg.data.path, cache_dir, what);
  check_vocab(enc.tokens, cfg.model.vocab_size, what);
  split_stream(d, enc.tokens, cfg, what);
  if (d.tokenizer->is_bytes()) {
    d.val.bytes_per_token = 1.0;
  } else {
    // Move the split to the next line start, where the byte offset is known.
    const int64_t n = enc.tokens.size(), s0 = d.train.size();
    const auto& index = enc.line_index;
    const auto line = std::find_if(index.begin(), index.end(), [&](const auto& e) { return e.second >= s0; });
    if (line != index.end() && line->second < n) {
      d.train = enc.tokens.slice(0, line->second);
      d.val.tokens = enc.tokens.slice(line->second, n);
      d.val.bytes_per_token = bytes_per_token(enc, line->first, n - line->second);
    } else {  // one huge last line: the whole text's ratio
      d.val.bytes_per_token = bytes_per_token(enc, 0, n);
    }
  }
  check_split(d, cfg, what);
}

void open_tokens_source(Dataset& d, const config::RunConfig& cfg) {
  const std::string what = "data.path: " + cfg.data.path;
  const TokenSpan all =
      TokenSpan::map_file(cfg.data.path, parse_token_dtype(cfg.data.token_dtype, "data.token_dtype"), what);
  check_vocab(all, cfg.model.vocab_size, what);
  split_stream(d, all, cfg, what);
  check_split(d, cfg, what);
}

ValSet open_extra_val(const Dataset& d, const config::RunConfig& cfg, size_t i, const std::string& cache_dir) {
  const config::ExtraValSpec& spec = cfg.eval.extra_val[i];
  const std::string key = "eval.extra_val[" + std::to_string(i) + "] (" + spec.name + ")";
  if (!d.tokenizer)
    throw bad_input(key + ": needs a text tokenizer, but data.source is \"" + cfg.data.source + "\"");
  const std::string what = key + ": " + spec.path;
  const EncodedText enc = open_text(*d.tokenizer, spec.path, cache_dir, what);
  check_vocab(enc.tokens, cfg.model.vocab_size, what);
  if (enc.tokens.size() < cfg.model.seq_len + 1)
    throw bad_input(what + ": " + std::to_string(enc.tokens.size()) + " tokens, " + one_sequence(cfg.model.seq_len));
  ValSet v;
  v.name = spec.name;
  v.tokens = enc.tokens;
  v.bytes_per_token = d.tokenizer->is_bytes() ? 1.0 : bytes_per_token(enc, 0, enc.tokens.size());
  return v;
}

}  // namespace

std::string default_cache_dir() {
  if (const char* env = std::getenv("HCX_CACHE_DIR"); env && *env) return env;
  return "results/cache";
}

Dataset open_dataset(const config::RunConfig& cfg, const DataOptions& opts) {
  const std::string cache_dir = opts.cache_dir.empty() ? default_cache_dir() : opts.cache_dir;
  Dataset d;
  d.source = cfg.data.source;
  d.seed = static_cast<uint64_t>(cfg.seed);
  d.batch_size = cfg.train.batch_size;
  d.seq_len = cfg.model.seq_len;
  d.eval_batches = cfg.eval.batches;
  d.val.name = "val";
  if (cfg.data.source == "synthetic") {
    open_synthetic(d, cfg);
  } else if (cfg.data.source == "text") {
    d.tokenizer = open_tokenizer(cfg);
    open_text_source(d, cfg, cache_dir);
  } else if (cfg.data.source == "tokens") {
    // The tokenizer only serves tasks and extra_val texts here; byte ids
    // cannot be meant with a vocabulary below 256.
    if (cfg.data.tokenizer != "bytes" || cfg.model.vocab_size >= 256) d.tokenizer = open_tokenizer(cfg);
    open_tokens_source(d, cfg);
  } else {
    throw bad_input("data.source: expected one of \"synthetic\", \"text\", \"tokens\", got \"" + cfg.data.source +
                    "\"");
  }
  for (size_t i = 0; i < cfg.eval.extra_val.size(); ++i) d.extra_val.push_back(open_extra_val(d, cfg, i, cache_dir));
  return d;
}

}  // namespace hcx::data
