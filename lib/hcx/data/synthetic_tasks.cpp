// Built-in synthetic multiple-choice tasks; see synthetic_tasks.h.
#include "hcx/data/synthetic_tasks.h"

#include <algorithm>
#include <functional>

#include "hcx/error.h"

namespace hcx::data {

namespace {

using Ids = std::vector<int32_t>;
using V = SyntheticVocab;

// One-token choices; the item's label is where `right` lands after shuffling.
EncodedItem make_item(Ids context, int32_t right, const Ids& others, Rng& rng) {
  Ids options{right};
  options.insert(options.end(), others.begin(), others.end());
  for (size_t i = options.size() - 1; i > 0; --i) std::swap(options[i], options[rng.below(i + 1)]);
  EncodedItem item;
  item.context = std::move(context);
  for (size_t i = 0; i < options.size(); ++i) {
    item.choices.push_back({options[i]});
    item.choice_bytes.push_back(1);
    if (options[i] == right) item.label = static_cast<int64_t>(i);
  }
  return item;
}

// `n` distinct ids != right: `always` first, then from `preferred` in random
// order, then from `pool`.
Ids distractors(int32_t right, const Ids& always, Ids preferred, const IdRange& pool, size_t n, Rng& rng) {
  Ids out;
  auto add = [&](int32_t id) {
    if (out.size() < n && id != right && std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  };
  for (int32_t id : always) add(id);
  for (size_t i = 0; i < preferred.size(); ++i) {
    std::swap(preferred[i], preferred[i + rng.below(preferred.size() - i)]);
    add(preferred[i]);
  }
  while (out.size() < n) add(pool.at(rng.below(pool.count)));
  return out;
}

// <doc>, then a sentence when it leaves `keep` tokens free (half the time).
Ids opening(SyntheticWriter& w, int64_t max_context, int64_t keep) {
  Ids ctx{V::kDoc};
  if (w.rng().chance(0.5)) {
    Ids s;
    w.sentence(s);
    if (static_cast<int64_t>(ctx.size() + s.size()) + keep <= max_context) ctx.insert(ctx.end(), s.begin(), s.end());
  }
  return ctx;
}

// Context ends where a group closes; the right choice is its closer.
bool brackets_item(SyntheticWriter& w, int64_t max_context, std::vector<EncodedItem>& items) {
  Ids ctx = opening(w, max_context, 8);
  Ids g;
  int64_t budget = std::min<int64_t>(w.bracket_budget(), max_context - static_cast<int64_t>(ctx.size()) + 1);
  w.group(g, 0, budget);
  // Closers of groups that hold a nested, already closed group, whose context
  // fits: the last opener seen is then not the one to match, so only a stack
  // (not "repeat the latest bracket type") gets them right.
  std::vector<size_t> candidates;
  std::vector<size_t> stack;
  size_t last_open = 0;
  for (size_t p = 0; p < g.size(); ++p) {
    if (V::is_open(g[p])) {
      stack.push_back(p);
      last_open = p;
    } else if (V::is_close(g[p])) {
      const size_t opened = stack.back();
      stack.pop_back();
      if (last_open != opened && static_cast<int64_t>(ctx.size() + p) <= max_context) candidates.push_back(p);
    }
  }
  if (candidates.empty()) return false;
  const size_t p = candidates[w.rng().below(candidates.size())];
  const int32_t right = g[p];
  ctx.insert(ctx.end(), g.begin(), g.begin() + static_cast<std::ptrdiff_t>(p));
  Ids others;
  for (int t = 0; t < V::kBracketTypes; ++t)
    if (V::close(t) != right) others.push_back(V::close(t));
  items.push_back(make_item(std::move(ctx), right, others, w.rng()));
  return true;
}

// set k v bindings with sentences between, then "get k".
bool recall_item(SyntheticWriter& w, int64_t max_context, std::vector<EncodedItem>& items) {
  const SyntheticVocab& v = w.vocab();
  Rng& rng = w.rng();
  // Values stay distinct within an item (a rebinding takes one more).
  const int64_t n_keys = std::min<int64_t>({rng.range(2, 4), v.keys.count, v.values.count - 1});
  Ids keys, values;  // bound so far, value indices distinct
  while (static_cast<int64_t>(keys.size()) < n_keys) {
    const auto k = static_cast<int32_t>(rng.below(v.keys.count));
    if (std::find(keys.begin(), keys.end(), k) != keys.end()) continue;
    int32_t val;
    do val = static_cast<int32_t>(rng.below(v.values.count));
    while (std::find(values.begin(), values.end(), val) != values.end());
    keys.push_back(k);
    values.push_back(val);
  }
  const size_t query = rng.below(keys.size());
  // Rebinding (difficulty >= 3): the queried key gets a new value later on.
  int32_t latest = values[query];
  bool rebound = false;
  if (w.params().rebind && rng.chance(0.5)) {
    do latest = static_cast<int32_t>(rng.below(v.values.count));
    while (std::find(values.begin(), values.end(), latest) != values.end());
    rebound = true;
  }
  Ids ctx{V::kDoc};
  const int64_t fixed = 3 * (n_keys + (rebound ? 1 : 0)) + 2;  // every set, and "get k"
  int64_t free = max_context - 1 - fixed;
  if (free < 0) return false;
  auto maybe_sentence = [&]() {
    Ids s;
    w.sentence(s);
    if (static_cast<int64_t>(s.size()) <= free) {
      ctx.insert(ctx.end(), s.begin(), s.end());
      free -= static_cast<int64_t>(s.size());
    }
  };
  for (size_t i = 0; i < keys.size(); ++i) {
    if (rng.chance(0.6)) maybe_sentence();
    ctx.insert(ctx.end(), {V::kSet, v.keys.at(keys[i]), v.values.at(values[i])});
  }
  maybe_sentence();
  if (rebound) {
    ctx.insert(ctx.end(), {V::kSet, v.keys.at(keys[query]), v.values.at(latest)});
    maybe_sentence();
  }
  ctx.insert(ctx.end(), {V::kGet, v.keys.at(keys[query])});
  Ids preferred;
  for (int32_t val : values) preferred.push_back(v.values.at(val));
  const Ids always = rebound ? Ids{v.values.at(values[query])} : Ids{};  // the overwritten value
  items.push_back(make_item(std::move(ctx), v.values.at(latest),
                            distractors(v.values.at(latest), always, preferred, v.values, 3, rng), rng));
  return true;
}

// copy w1..wk paste w1..wj: the right choice is w(j+1).
bool copy_item(SyntheticWriter& w, int64_t max_context, std::vector<EncodedItem>& items) {
  const SyntheticVocab& v = w.vocab();
  Rng& rng = w.rng();
  Ids ctx = opening(w, max_context, 2 * w.params().copy_max + 2);
  const int64_t room = (max_context - static_cast<int64_t>(ctx.size()) - 2) / 2;  // span twice, copy and paste
  const int64_t k = std::min(rng.range(w.params().copy_min, w.params().copy_max), room);
  if (k < 2) return false;
  Ids span;
  for (int64_t i = 0; i < k; ++i) span.push_back(v.words.at(rng.below(v.words.count)));
  const auto j = static_cast<std::ptrdiff_t>(rng.below(static_cast<uint64_t>(k)));
  ctx.push_back(V::kCopy);
  ctx.insert(ctx.end(), span.begin(), span.end());
  ctx.push_back(V::kPaste);
  ctx.insert(ctx.end(), span.begin(), span.begin() + j);
  items.push_back(make_item(std::move(ctx), span[j], distractors(span[j], {}, span, v.words, 3, rng), rng));
  return true;
}

// det adj* noun(num) prep NP(other num) ... : the verb must agree with num.
bool agreement_item(SyntheticWriter& w, int64_t max_context, std::vector<EncodedItem>& items) {
  const SyntheticVocab& v = w.vocab();
  Rng& rng = w.rng();
  Ids ctx = opening(w, max_context, 16);
  const int plural = static_cast<int>(rng.below(2));
  Ids np;
  // The head: a noun phrase without its own PP, then a forced PP whose noun
  // has the other number.
  SyntheticParams no_pp = w.params();
  no_pp.max_pp_depth = 0;
  SyntheticWriter head(v, no_pp, rng.next());
  head.noun_phrase(np, plural, 0);
  np.push_back(v.prep.at(rng.below(v.prep.count)));
  w.noun_phrase(np, 1 - plural, 1);
  if (static_cast<int64_t>(ctx.size() + np.size()) > max_context) return false;
  ctx.insert(ctx.end(), np.begin(), np.end());
  const int64_t lemma = w.verb_lemma();
  // Fixed order (singular, plural) reads better in dumps; the label balances.
  EncodedItem item;
  item.context = std::move(ctx);
  item.choices = {{v.verb_sg.at(lemma)}, {v.verb_pl.at(lemma)}};
  item.choice_bytes = {1, 1};
  item.label = plural;
  items.push_back(std::move(item));
  return true;
}

using Builder = std::function<bool(SyntheticWriter&, int64_t, std::vector<EncodedItem>&)>;

const std::vector<std::pair<std::string, Builder>>& builders() {
  static const std::vector<std::pair<std::string, Builder>> kBuilders = {
      {"syn_brackets", brackets_item},
      {"syn_recall", recall_item},
      {"syn_copy", copy_item},
      {"syn_agreement", agreement_item},
  };
  return kBuilders;
}

}  // namespace

const std::vector<std::string>& synthetic_task_names() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const auto& b : builders()) names.push_back(b.first);
    return names;
  }();
  return kNames;
}

Task synthetic_task(const std::string& name, const SyntheticVocab& vocab, int64_t difficulty, int64_t max_context,
                    int64_t n_items) {
  const auto& all = builders();
  const auto it = std::find_if(all.begin(), all.end(), [&](const auto& b) { return b.first == name; });
  if (it == all.end()) {
    std::string known;
    for (const auto& n : synthetic_task_names()) known += (known.empty() ? "" : ", ") + n;
    throw bad_input(name + ": unknown synthetic task (known: " + known + ")");
  }
  if (max_context < kMinSyntheticTaskContext)
    throw bad_input("model.seq_len: synthetic tasks need model.seq_len >= " +
                    std::to_string(kMinSyntheticTaskContext + 1) + ", got " + std::to_string(max_context + 1));
  SyntheticWriter writer(vocab, synthetic_params(difficulty),
                         hash_key({kSyntheticTaskSeed, fnv1a(name.data(), name.size())}));
  Task task{name, "synthetic", {}};
  // A builder may reject a draw that does not fit; many rejections in a row
  // would mean a bug, not bad luck.
  int64_t rejected = 0;
  while (static_cast<int64_t>(task.items.size()) < n_items) {
    if (it->second(writer, max_context, task.items)) {
      rejected = 0;
    } else if (++rejected > 10000) {
      throw Error(ErrorKind::kRunFailed, name + ": cannot build items with contexts of " +
                                             std::to_string(max_context) + " tokens");
    }
  }
  return task;
}

}  // namespace hcx::data
