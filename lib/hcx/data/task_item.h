// Multiple-choice items for downstream scores (plain C++): the text form read
// from a task file and the tokenised form the trainer scores (docs/method.md,
// "Downstream scores"; lm-evaluation-harness style).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hcx::data {

// One item as text. Choices are continuations of the context, written with
// the separating space they need (see tasks.h), so context + choice is the
// scored text.
struct TaskItem {
  std::string context;               // empty for pairs (BLiMP)
  std::vector<std::string> choices;  // at least 2
  int64_t label = 0;                 // index of the right choice
  int64_t line = 0;                  // 1-based line in the task file; 0 when generated
};

// One item as token ids. Scoring contract for the trainer: for each choice c,
// score = sum over the choice's tokens of log p(token | context, earlier
// choice tokens); acc counts items whose argmax score is `label`; acc_norm
// uses score / choice_bytes[c]. When context + choice exceed model.seq_len,
// drop tokens from the left of the context (never from the choice).
struct EncodedItem {
  std::vector<int32_t> context;               // never empty (an empty text becomes the tokenizer's boundary)
  std::vector<std::vector<int32_t>> choices;  // each non-empty
  std::vector<int64_t> choice_bytes;          // length of each choice for acc_norm: UTF-8 bytes of its
                                              // text; synthetic tasks: its token count
  int64_t label = 0;
};

// A task ready to score.
struct Task {
  std::string name;  // label in the evals table ("hellaswag", "syn_recall")
  std::string kind;  // "choice" | "pairs" | "synthetic"
  std::vector<EncodedItem> items;
};

}  // namespace hcx::data
