// The synthetic language (data.source = "synthetic"), plain C++: a
// deterministic token language with structure at several ranges, so that a
// model's depth and its residual stream matter, with no download.
//
// A corpus is a sequence of documents. Each starts with <doc> and holds
// segments of five kinds:
//   sentence   local grammar: NP VP "." from a small probabilistic grammar over
//              word classes (determiner, adjective, noun, verb, adverb,
//              preposition), Zipf-distributed words within a class, verbs that
//              prefer certain object nouns; and agreement over a distance: the
//              subject's determiner and verb agree in number with its head
//              noun, across prepositional phrases whose nouns ("attractors")
//              carry their own number.
//   brackets   nested groups of four bracket types ( [ { < around words; every
//              group closes with its own type, so predicting a closer needs a
//              stack over the whole span.
//   set k v    binds key k to value v for the rest of the document.
//   get k v    queries a key bound earlier in the same document; v is its most
//              recent value (recall over tens to hundreds of tokens).
//   copy ... paste ... "."  a span of uniformly random words, repeated
//              (in-context copying, which needs induction-style attention).
// data.difficulty (1..4) raises document length (recall distance), the
// probability and depth of prepositional phrases, bracket nesting depth and
// span, copy length, and from 3 on lets keys be rebound (the latest wins).
// Measured means (tests/data/synthetic_test.cpp), difficulty 1 / 2 / 3 / 4:
// set-to-get distance 13 / 35 / 97 / 298 tokens, sentences with a PP 15 / 30
// / 45 / 56 %, bracket depth 1.6 / 2.3 / 3.9 / 6.0 and span 8 / 15 / 40 / 105
// tokens, copied span 3.5 / 5.5 / 8 / 13 tokens. So difficulty 3 and 4 want
// model.seq_len >= 256: in a 64-token window most of their recalls are out of
// reach (an irreducible part of the loss, not a bug).
//
// The corpus is a pure function of (vocabulary layout, difficulty, token
// count, kSyntheticCorpusSeed): never of the run seed, so every run of an
// ablation trains on the same corpus; the run seed only orders the batches.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hcx/data/rng.h"

namespace hcx::data {

// Fixed seed of the training corpus (validation is its tail; see dataset.h).
constexpr uint64_t kSyntheticCorpusSeed = 0x5eed0c0a9c05ULL;
// The language needs this many ids; a smaller model.vocab_size is an error.
constexpr int64_t kMinSyntheticVocab = 48;
// The language never uses more than this many ids: with a larger
// model.vocab_size the corpus is the one of 256 (ids above stay unused).
constexpr int64_t kMaxSyntheticVocab = 256;

// Where each token class sits in the vocabulary: [first, first + count).
struct IdRange {
  int32_t first = 0;
  int32_t count = 0;
  int32_t at(int64_t i) const { return first + static_cast<int32_t>(i); }
  bool contains(int32_t id) const { return id >= first && id < first + count; }
};

struct SyntheticVocab {
  static constexpr int32_t kDoc = 0;    // document start
  static constexpr int32_t kEnd = 1;    // "." ends a sentence or a copy segment
  static constexpr int32_t kSet = 2;    // "set k v"
  static constexpr int32_t kGet = 3;    // "get k v"
  static constexpr int32_t kCopy = 4;   // "copy w.. paste w.. ."
  static constexpr int32_t kPaste = 5;
  static constexpr int kBracketTypes = 4;
  static constexpr int32_t open(int type) { return 6 + 2 * type; }    // ( [ { <
  static constexpr int32_t close(int type) { return 7 + 2 * type; }   // ) ] } >
  static constexpr bool is_open(int32_t id) { return id >= 6 && id < 14 && id % 2 == 0; }
  static constexpr bool is_close(int32_t id) { return id >= 6 && id < 14 && id % 2 == 1; }
  static constexpr int bracket_type(int32_t id) { return (id - 6) / 2; }

  int32_t size = 0;  // ids used: [0, size)
  IdRange keys, values;
  IdRange det_sg, det_pl, noun_sg, noun_pl, verb_sg, verb_pl, adj, adv, prep;
  IdRange words;     // every word id (det .. prep), contiguous
};

// The layout for a model with `model_vocab_size` ids: min(model_vocab_size,
// 256) ids, classes sized in proportion. Throws Error(kBadInput)
// "model.vocab_size: the synthetic language needs at least 48 ids, got N"
// when it is too small.
SyntheticVocab synthetic_vocab(int64_t model_vocab_size);

// A readable name for a token: "<doc>", ".", "set", "(", "k3", "v7",
// "dsg1", "npl12", "vsg4", "adj2", "adv0", "p1", ...
std::string token_name(const SyntheticVocab& vocab, int32_t id);
// Token names joined by spaces.
std::string render(const SyntheticVocab& vocab, const std::vector<int32_t>& ids);

// The knobs data.difficulty sets (documented values in synthetic.cpp).
struct SyntheticParams {
  int64_t segments_min, segments_max;  // segments per document
  double p_pp;                         // chance that an NP takes a prepositional phrase
  int max_pp_depth;                    // nesting of prepositional phrases
  double p_adj;                        // chance of each further adjective (at most 2)
  int max_bracket_depth;               // nesting of bracket groups
  double p_nest;                       // chance that a group item is a nested group
  int group_items_max;                 // items per group: 1..group_items_max
  int64_t copy_min, copy_max;          // copied span length
  bool rebind;                         // keys may be bound again (latest wins)
};
// Throws Error(kBadInput) "data.difficulty: expected an integer from 1 to 4, got N".
SyntheticParams synthetic_params(int64_t difficulty);

// Writes segments of the language with one Rng. Deterministic given (vocab,
// params, seed). Not thread-safe; cheap to create. The corpus generator and
// the built-in synthetic tasks (synthetic_tasks.h) share it, so tasks test
// exactly the structure the corpus teaches.
class SyntheticWriter {
 public:
  SyntheticWriter(const SyntheticVocab& vocab, const SyntheticParams& params, uint64_t seed);

  // A whole document: <doc> then segments.
  void document(std::vector<int32_t>& out);
  // One segment of a random kind other than set/get (sentence, brackets, copy).
  void filler(std::vector<int32_t>& out);
  // NP VP "." with a subject of random number.
  void sentence(std::vector<int32_t>& out);
  // A noun phrase of number `plural` (0/1): det adj* noun [prep NP], the
  // prepositional phrases nested up to depth max_pp_depth - depth.
  void noun_phrase(std::vector<int32_t>& out, int plural, int depth);
  // A bracket group at nesting `depth` (0 = outermost) of at most `budget`
  // tokens (decremented by what it writes); bracket_budget() for a segment.
  void group(std::vector<int32_t>& out, int depth, int64_t& budget);
  int64_t bracket_budget() const;
  // copy w1..wk paste w1..wk .
  void copy(std::vector<int32_t>& out);
  // Verb lemma index drawn by frequency; the verb id is verb_sg/verb_pl.at(lemma).
  int64_t verb_lemma();
  // A content word (adjective, noun, verb) by frequency.
  int32_t content_word();
  Rng& rng() { return rng_; }
  const SyntheticVocab& vocab() const { return vocab_; }
  const SyntheticParams& params() const { return params_; }

 private:
  struct Zipf {  // cumulative weights 1/(i+1)
    std::vector<double> cdf;
    int64_t sample(Rng& rng) const;
  };
  void verb_phrase(std::vector<int32_t>& out, int plural);

  SyntheticVocab vocab_;
  SyntheticParams params_;
  Rng rng_;
  Zipf det_, noun_, verb_, adj_, adv_, prep_, content_, object_;
};

// `n_tokens` tokens of the language: whole documents, the last one cut at
// n_tokens. A pure function of its arguments. About 20-40 ns per token.
std::vector<int32_t> generate_synthetic(const SyntheticVocab& vocab, int64_t difficulty, int64_t n_tokens,
                                        uint64_t seed = kSyntheticCorpusSeed);

}  // namespace hcx::data
