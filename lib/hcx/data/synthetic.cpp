// The synthetic language: vocabulary layout, difficulty settings, generator.
// See synthetic.h for what it generates and why.
#include "hcx/data/synthetic.h"

#include <algorithm>

#include "hcx/error.h"

namespace hcx::data {

namespace {

// Segment mix of a document (cumulative): sentence 40 %, brackets 22 %,
// set 13 %, get 15 %, copy 10 %. Sentences dominate so that local grammar
// carries most of the loss; the long-range kinds are frequent enough to be
// learned by small models in a few hundred steps.
constexpr double kSentence = 0.40, kBrackets = 0.62, kSet = 0.75, kGet = 0.90;
constexpr double kObjectChance = 0.5;   // a verb takes an object
constexpr double kAdverbChance = 0.25;  // a verb phrase ends with an adverb
constexpr double kPreferredObject = 0.8;  // the object is one of the verb's preferred nouns
constexpr int64_t kPreferredNouns = 6;    // nouns a verb prefers

IdRange take(int32_t& next, int32_t count) {
  IdRange r{next, count};
  next += count;
  return r;
}

}  // namespace

SyntheticVocab synthetic_vocab(int64_t model_vocab_size) {
  if (model_vocab_size < kMinSyntheticVocab)
    throw bad_input("model.vocab_size: the synthetic language needs at least " + std::to_string(kMinSyntheticVocab) +
                    " ids, got " + std::to_string(model_vocab_size));
  const auto used = static_cast<int32_t>(std::min(model_vocab_size, kMaxSyntheticVocab));
  const int32_t rest = used - 14;  // after the 6 specials and 8 brackets
  const int32_t kv = std::max<int32_t>(4, rest * 12 / 100);
  const int32_t w = rest - 2 * kv;
  const int32_t det = std::max(1, w / 40), prep = std::max(1, w / 24), adv = std::max(1, w / 24);
  const int32_t verb = std::max(2, w / 8);
  int32_t adj = std::max(1, w / 8);
  const int32_t noun = (w - 2 * det - prep - 2 * verb - adv - adj) / 2;
  adj += w - 2 * det - prep - 2 * verb - adv - adj - 2 * noun;  // the odd one left over

  SyntheticVocab v;
  v.size = used;
  int32_t next = 14;
  v.keys = take(next, kv);
  v.values = take(next, kv);
  const int32_t first_word = next;
  v.det_sg = take(next, det);
  v.det_pl = take(next, det);
  v.noun_sg = take(next, noun);
  v.noun_pl = take(next, noun);
  v.verb_sg = take(next, verb);
  v.verb_pl = take(next, verb);
  v.adj = take(next, adj);
  v.adv = take(next, adv);
  v.prep = take(next, prep);
  v.words = IdRange{first_word, next - first_word};
  return v;
}

std::string token_name(const SyntheticVocab& v, int32_t id) {
  static const char* const kSpecial[] = {"<doc>", ".", "set", "get", "copy", "paste", "(", ")", "[", "]", "{", "}", "<", ">"};
  if (id >= 0 && id < 14) return kSpecial[id];
  const struct {
    const IdRange& range;
    const char* prefix;
  } classes[] = {{v.keys, "k"},      {v.values, "v"},     {v.det_sg, "dsg"}, {v.det_pl, "dpl"},
                 {v.noun_sg, "nsg"}, {v.noun_pl, "npl"},  {v.verb_sg, "vsg"}, {v.verb_pl, "vpl"},
                 {v.adj, "adj"},     {v.adv, "adv"},      {v.prep, "p"}};
  for (const auto& c : classes)
    if (c.range.contains(id)) return c.prefix + std::to_string(id - c.range.first);
  return "?" + std::to_string(id);
}

std::string render(const SyntheticVocab& vocab, const std::vector<int32_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) s += ' ';
    s += token_name(vocab, ids[i]);
  }
  return s;
}

SyntheticParams synthetic_params(int64_t difficulty) {
  // segs      p_pp  pp  p_adj brk p_nest items copy   rebind
  switch (difficulty) {
    case 1: return {4, 8, 0.15, 1, 0.30, 2, 0.35, 4, 2, 5, false};
    case 2: return {8, 16, 0.30, 2, 0.30, 3, 0.40, 5, 3, 8, false};
    case 3: return {12, 28, 0.45, 3, 0.35, 5, 0.45, 6, 4, 12, true};
    case 4: return {20, 48, 0.55, 4, 0.35, 7, 0.50, 8, 6, 20, true};
  }
  throw bad_input("data.difficulty: expected an integer from 1 to 4, got " + std::to_string(difficulty));
}

int64_t SyntheticWriter::Zipf::sample(Rng& rng) const {
  const double u = rng.uniform() * cdf.back();
  return std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin();
}

SyntheticWriter::SyntheticWriter(const SyntheticVocab& vocab, const SyntheticParams& params, uint64_t seed)
    : vocab_(vocab), params_(params), rng_(seed) {
  auto zipf = [](int32_t n) {
    Zipf z;
    double sum = 0;
    for (int32_t i = 0; i < n; ++i) z.cdf.push_back(sum += 1.0 / (i + 1));
    return z;
  };
  det_ = zipf(vocab.det_sg.count);
  noun_ = zipf(vocab.noun_sg.count);
  verb_ = zipf(vocab.verb_sg.count);
  adj_ = zipf(vocab.adj.count);
  adv_ = zipf(vocab.adv.count);
  prep_ = zipf(vocab.prep.count);
  object_ = zipf(static_cast<int32_t>(std::min<int64_t>(kPreferredNouns, vocab.noun_sg.count)));
}

int64_t SyntheticWriter::verb_lemma() { return verb_.sample(rng_); }

int32_t SyntheticWriter::content_word() {
  const double u = rng_.uniform();
  const int plural = static_cast<int>(rng_.below(2));
  if (u < 0.5) return (plural ? vocab_.noun_pl : vocab_.noun_sg).at(noun_.sample(rng_));
  if (u < 0.75) return vocab_.adj.at(adj_.sample(rng_));
  return (plural ? vocab_.verb_pl : vocab_.verb_sg).at(verb_.sample(rng_));
}

void SyntheticWriter::noun_phrase(std::vector<int32_t>& out, int plural, int depth) {
  out.push_back((plural ? vocab_.det_pl : vocab_.det_sg).at(det_.sample(rng_)));
  for (int i = 0; i < 2 && rng_.chance(params_.p_adj); ++i) out.push_back(vocab_.adj.at(adj_.sample(rng_)));
  out.push_back((plural ? vocab_.noun_pl : vocab_.noun_sg).at(noun_.sample(rng_)));
  if (depth < params_.max_pp_depth && rng_.chance(params_.p_pp)) {
    out.push_back(vocab_.prep.at(prep_.sample(rng_)));
    noun_phrase(out, static_cast<int>(rng_.below(2)), depth + 1);
  }
}

void SyntheticWriter::verb_phrase(std::vector<int32_t>& out, int plural) {
  const int64_t lemma = verb_lemma();
  out.push_back((plural ? vocab_.verb_pl : vocab_.verb_sg).at(lemma));
  if (rng_.chance(kObjectChance)) {
    const int obj_plural = static_cast<int>(rng_.below(2));
    out.push_back((obj_plural ? vocab_.det_pl : vocab_.det_sg).at(det_.sample(rng_)));
    const int64_t n = vocab_.noun_sg.count;
    const int64_t noun = rng_.chance(kPreferredObject) ? (lemma * 3 + object_.sample(rng_)) % n : noun_.sample(rng_);
    out.push_back((obj_plural ? vocab_.noun_pl : vocab_.noun_sg).at(noun));
  }
  if (rng_.chance(kAdverbChance)) out.push_back(vocab_.adv.at(adv_.sample(rng_)));
}

void SyntheticWriter::sentence(std::vector<int32_t>& out) {
  const int plural = static_cast<int>(rng_.below(2));
  noun_phrase(out, plural, 0);
  verb_phrase(out, plural);
  out.push_back(SyntheticVocab::kEnd);
}

void SyntheticWriter::group(std::vector<int32_t>& out, int depth, int64_t& budget) {
  const int type = static_cast<int>(rng_.below(SyntheticVocab::kBracketTypes));
  out.push_back(SyntheticVocab::open(type));
  budget -= 2;  // the opener and, reserved, the closer
  const int64_t items = rng_.range(1, params_.group_items_max);
  for (int64_t i = 0; i < items && budget > 0; ++i) {
    if (depth + 1 < params_.max_bracket_depth && budget >= 3 && rng_.chance(params_.p_nest)) {
      group(out, depth + 1, budget);
    } else {
      out.push_back(content_word());
      --budget;
    }
  }
  out.push_back(SyntheticVocab::close(type));
}

int64_t SyntheticWriter::bracket_budget() const {
  return 16LL << (params_.max_bracket_depth / 2);  // difficulty 1..4: 32, 32, 64, 128 tokens
}

void SyntheticWriter::copy(std::vector<int32_t>& out) {
  const int64_t n = rng_.range(params_.copy_min, params_.copy_max);
  out.push_back(SyntheticVocab::kCopy);
  const size_t start = out.size();
  for (int64_t i = 0; i < n; ++i) out.push_back(vocab_.words.at(rng_.below(vocab_.words.count)));
  out.push_back(SyntheticVocab::kPaste);
  for (int64_t i = 0; i < n; ++i) out.push_back(out[start + i]);
  out.push_back(SyntheticVocab::kEnd);
}

void SyntheticWriter::filler(std::vector<int32_t>& out) {
  const double u = rng_.uniform();
  if (u < 0.6) {
    sentence(out);
  } else if (u < 0.85) {
    int64_t budget = bracket_budget();
    group(out, 0, budget);
  } else {
    copy(out);
  }
}

void SyntheticWriter::document(std::vector<int32_t>& out) {
  out.push_back(SyntheticVocab::kDoc);
  std::vector<int32_t> value_of(static_cast<size_t>(vocab_.keys.count), -1);  // by key index; -1 unbound
  std::vector<int32_t> bound;                                                 // key indices bound so far
  const int64_t segments = rng_.range(params_.segments_min, params_.segments_max);
  for (int64_t s = 0; s < segments; ++s) {
    const double u = rng_.uniform();
    if (u < kSentence) {
      sentence(out);
    } else if (u < kBrackets) {
      int64_t budget = bracket_budget();
      group(out, 0, budget);
    } else if (u < kSet || (u < kGet && bound.empty())) {
      int32_t key;
      const bool full = static_cast<int32_t>(bound.size()) == vocab_.keys.count;
      if (!bound.empty() && params_.rebind && (full || rng_.chance(0.3))) {
        key = bound[rng_.below(bound.size())];
      } else if (!full) {
        do key = static_cast<int32_t>(rng_.below(vocab_.keys.count));
        while (value_of[key] >= 0);
        bound.push_back(key);
      } else {
        sentence(out);  // every key is bound and rebinding is off
        continue;
      }
      int32_t value;
      do value = static_cast<int32_t>(rng_.below(vocab_.values.count));
      while (value == value_of[key]);
      value_of[key] = value;
      out.insert(out.end(), {SyntheticVocab::kSet, vocab_.keys.at(key), vocab_.values.at(value)});
    } else if (u < kGet) {
      const int32_t key = bound[rng_.below(bound.size())];
      out.insert(out.end(), {SyntheticVocab::kGet, vocab_.keys.at(key), vocab_.values.at(value_of[key])});
    } else {
      copy(out);
    }
  }
}

std::vector<int32_t> generate_synthetic(const SyntheticVocab& vocab, int64_t difficulty, int64_t n_tokens,
                                        uint64_t seed) {
  SyntheticWriter writer(vocab, synthetic_params(difficulty), seed);
  std::vector<int32_t> out;
  out.reserve(static_cast<size_t>(n_tokens) + 1024);
  while (static_cast<int64_t>(out.size()) < n_tokens) writer.document(out);
  out.resize(static_cast<size_t>(n_tokens));
  return out;
}

}  // namespace hcx::data
