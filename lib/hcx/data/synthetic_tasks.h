// Built-in multiple-choice tasks over the synthetic language (plain C++): each
// probes one long-range structure of the corpus (synthetic.h) with a known
// right answer, so the default config gets downstream scores with no files.
//   syn_brackets   context ends inside a bracket group just where it closes,
//                  after a nested group that has closed (so the latest opener
//                  is not the one to match); choices: the four closers;
//                  right: the one matching the innermost open bracket
//                  (chance 25 %).
//   syn_recall     context binds 2-4 keys (set k v), sentences in between,
//                  then "get k"; choices: 4 values, the distractors preferably
//                  other values of the same document, including the key's own
//                  earlier value where it was rebound (difficulty >= 3);
//                  right: the key's latest value (chance 25 %).
//   syn_copy       context "copy w1..wk paste w1..wj"; choices: w(j+1) and 3
//                  other words, preferably from the same span (chance 25 %).
//   syn_agreement  context: a subject noun phrase whose head is followed by a
//                  prepositional phrase with a noun of the other number
//                  (an attractor); choices: the singular and plural form of
//                  one verb; right: the head's number (chance 50 %).
// Every choice is one token, and its length for acc_norm is its token count
// (1), so acc_norm equals acc here. Items are a pure function of (vocabulary
// layout, difficulty, context length, name, kSyntheticTaskSeed), never of the
// run seed, and distinct from the corpus's random draws.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hcx/data/synthetic.h"
#include "hcx/data/task_item.h"

namespace hcx::data {

constexpr uint64_t kSyntheticTaskSeed = 0x7a5c5eedULL;
constexpr int64_t kDefaultSyntheticItems = 200;  // items per task when eval.tasks[].limit is 0
constexpr int64_t kMinSyntheticTaskContext = 16;  // shortest model.seq_len - 1 the tasks fit in

// "syn_brackets", "syn_recall", "syn_copy", "syn_agreement".
const std::vector<std::string>& synthetic_task_names();

// `n_items` items of the built-in task `name`, each context at most
// `max_context` tokens (use model.seq_len - 1). Throws Error(kBadInput)
// "<name>: unknown synthetic task (known: syn_brackets, ...)" and, when
// max_context < kMinSyntheticTaskContext, "model.seq_len: synthetic tasks need
// contexts of at least 16 tokens, got N".
Task synthetic_task(const std::string& name, const SyntheticVocab& vocab, int64_t difficulty, int64_t max_context,
                    int64_t n_items);

}  // namespace hcx::data
