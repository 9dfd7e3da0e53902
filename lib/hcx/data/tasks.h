// Downstream multiple-choice tasks (plain C++): task files in JSONL read
// through a field mapping (config TaskSpec), tokenised with the run's
// tokenizer, plus the built-in synthetic tasks (synthetic_tasks.h).
#pragma once

#include <optional>
#include <vector>

#include "hcx/config/run_config.h"
#include "hcx/data/task_item.h"
#include "hcx/data/tokenizer.h"

namespace hcx::data {

// Reads the items of a "choice" or "pairs" task file: JSONL, one object per
// line, blank lines skipped, every spec.stride-th item (1 = all), at most
// spec.limit items (0 = all).
//   choice (HellaSwag): context = spec.context_field (string), choices =
//     spec.choices_field (list of >= 2 strings), label = spec.label_field (an
//     integer, or a string of digits, indexing the choices).
//   pairs (BLiMP): context "", choices [spec.good_field, spec.bad_field],
//     label 0: the pair is right when the good sentence scores higher.
// A choice is a continuation of its context: when the context is not empty,
// does not end in whitespace and the choice does not start with it, the
// choice gets one leading space (lm-evaluation-harness does the same for
// HellaSwag), which counts in its byte length.
// Throws Error(kBadInput), naming the file and 1-based line:
//   "<path>: file not found"            "<path>: no items"
//   "<path>:<line>: not valid JSON (<parser message>)"
//   "<path>:<line>: expected a JSON object"
//   "<path>:<line>: missing field \"ctx\""
//   "<path>:<line>: field \"ctx\": expected a string, got <json type>"
//   "<path>:<line>: field \"endings\": expected a list of at least 2 strings, got <json type or short list>"
//   "<path>:<line>: field \"label\": expected an integer from 0 to 3, got <value>"
std::vector<TaskItem> read_task_items(const config::TaskSpec& spec);

// Tokenises items with `tok` (one hcx-spm run for all texts). Contexts that
// are empty become tok.boundary(); choice_bytes are the UTF-8 byte lengths of
// the choice texts. Throws Error(kBadInput) "<what>: item N: token id ID is
// >= model.vocab_size V" when `vocab_size` is exceeded, and
// "<what>: item N: choice C is empty after tokenisation".
std::vector<EncodedItem> encode_items(const std::vector<TaskItem>& items, const Tokenizer& tok, int64_t vocab_size,
                                      const std::string& what);

// Every task a run scores, in order:
//   eval.tasks, each entry as its kind says: "choice" and "pairs" read from
//   its path and tokenised with `tok` (the run's tokenizer; see
//   Dataset::tokenizer), "synthetic" built by synthetic_task(name) with
//   `limit` items (0: kDefaultSyntheticItems);
//   with eval.tasks empty and data.source "synthetic": the four built-in
//   synthetic tasks, kDefaultSyntheticItems each (none, with a warning on
//   stderr, when model.seq_len is below 17).
// Errors are Error(kBadInput) prefixed "eval.tasks[i] (<name>): ", including
// "kind \"choice\" needs a text tokenizer, but data.source is \"synthetic\""
// (tok empty) and "kind \"synthetic\" needs data.source \"synthetic\"".
std::vector<Task> load_tasks(const config::RunConfig& cfg, const std::optional<Tokenizer>& tok);

}  // namespace hcx::data
