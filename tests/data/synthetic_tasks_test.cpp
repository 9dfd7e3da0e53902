// Built-in synthetic tasks: every item's right answer checked by an
// independent reading of its context, at every difficulty and context size.
#include "hcx/data/synthetic_tasks.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "test_util.h"

namespace hcx::data {
namespace {

using V = SyntheticVocab;
using testing::error_of;

int32_t single(const std::vector<int32_t>& choice) {
  EXPECT_EQ(choice.size(), 1u);
  return choice.empty() ? -1 : choice[0];
}

// The token the context asks for, read off the context alone.
int32_t expected_answer(const std::string& task, const V& v, const EncodedItem& item) {
  const auto& c = item.context;
  if (task == "syn_brackets") {
    std::vector<size_t> stack;  // positions of open brackets
    size_t last_open = 0;
    for (size_t i = 0; i < c.size(); ++i) {
      if (V::is_open(c[i])) stack.push_back(last_open = i);
      if (V::is_close(c[i])) stack.pop_back();
    }
    if (stack.empty()) return -1;
    EXPECT_NE(last_open, stack.back()) << "a nested group closes before the answer";
    return V::close(V::bracket_type(c[stack.back()]));
  }
  if (task == "syn_recall") {
    EXPECT_EQ(c[c.size() - 2], V::kGet);
    const int32_t key = c.back();
    int32_t value = -1;
    for (size_t i = 0; i + 2 < c.size(); ++i)
      if (c[i] == V::kSet && c[i + 1] == key) value = c[i + 2];
    return value;
  }
  if (task == "syn_copy") {
    const size_t copy = std::find(c.begin(), c.end(), V::kCopy) - c.begin();
    const size_t paste = std::find(c.begin(), c.end(), V::kPaste) - c.begin();
    const size_t done = c.size() - paste - 1;
    return c[copy + 1 + done];
  }
  // syn_agreement: the first noun after the last sentence boundary is the head.
  size_t start = c.size();
  while (start > 0 && c[start - 1] != V::kEnd && c[start - 1] != V::kDoc) --start;
  for (size_t i = start; i < c.size(); ++i) {
    if (v.noun_sg.contains(c[i])) return 0;
    if (v.noun_pl.contains(c[i])) return 1;
  }
  return -1;
}

TEST(SyntheticTasks, EveryAnswerFollowsFromItsContext) {
  for (int64_t size : {48, 256}) {
    const V v = synthetic_vocab(size);
    for (int64_t d = 1; d <= 4; ++d) {
      for (int64_t max_context : {16, 63, 255}) {
        for (const auto& name : synthetic_task_names()) {
          const Task task = synthetic_task(name, v, d, max_context, 100);
          const std::string where = name + " vocab " + std::to_string(size) + " difficulty " + std::to_string(d) +
                                    " context " + std::to_string(max_context);
          ASSERT_EQ(task.items.size(), 100u) << where;
          EXPECT_EQ(task.kind, "synthetic");
          for (const auto& item : task.items) {
            ASSERT_LE(static_cast<int64_t>(item.context.size()), max_context) << where;
            EXPECT_EQ(item.context.front(), V::kDoc) << where;
            ASSERT_GE(item.label, 0);
            ASSERT_LT(item.label, static_cast<int64_t>(item.choices.size()));
            EXPECT_EQ(item.choice_bytes, std::vector<int64_t>(item.choices.size(), 1));
            for (int32_t t : item.context) EXPECT_LT(t, size);
            const int32_t answer = expected_answer(name, v, item);
            if (name == "syn_agreement") {
              ASSERT_EQ(item.choices.size(), 2u);
              EXPECT_EQ(item.label, answer) << where;
              EXPECT_TRUE(v.verb_sg.contains(single(item.choices[0])));
              EXPECT_EQ(single(item.choices[1]) - v.verb_pl.first, single(item.choices[0]) - v.verb_sg.first);
            } else {
              ASSERT_EQ(item.choices.size(), 4u) << where;
              EXPECT_EQ(single(item.choices[static_cast<size_t>(item.label)]), answer) << where;
              std::set<int32_t> distinct;
              for (const auto& ch : item.choices) distinct.insert(single(ch));
              EXPECT_EQ(distinct.size(), 4u) << where;
            }
          }
        }
      }
    }
  }
}

TEST(SyntheticTasks, LabelsAreBalancedAndAttractorsDisagree) {
  const V v = synthetic_vocab(256);
  for (const auto& name : synthetic_task_names()) {
    const Task task = synthetic_task(name, v, 2, 63, 400);
    std::map<int64_t, int> counts;
    for (const auto& item : task.items) ++counts[item.label];
    const double fair = 400.0 / static_cast<double>(task.items[0].choices.size());
    for (const auto& [label, n] : counts) EXPECT_NEAR(n, fair, fair * 0.3) << name << " label " << label;
  }
  // Agreement items carry a noun of the other number after the head.
  for (const auto& item : synthetic_task("syn_agreement", v, 1, 63, 100).items) {
    int nouns_of_other_number = 0;
    for (int32_t t : item.context)
      nouns_of_other_number += (item.label == 0 ? v.noun_pl : v.noun_sg).contains(t);
    EXPECT_GE(nouns_of_other_number, 1);
  }
}

TEST(SyntheticTasks, RecallAtDifficultyThreeRebindsAndOffersTheOldValue) {
  const V v = synthetic_vocab(256);
  int rebound = 0;
  for (const auto& item : synthetic_task("syn_recall", v, 3, 63, 200).items) {
    const int32_t key = item.context.back();
    std::vector<int32_t> values;
    for (size_t i = 0; i + 2 < item.context.size(); ++i)
      if (item.context[i] == V::kSet && item.context[i + 1] == key) values.push_back(item.context[i + 2]);
    if (values.size() < 2) continue;
    ++rebound;
    bool offered = false;
    for (const auto& ch : item.choices) offered |= ch[0] == values[values.size() - 2];
    EXPECT_TRUE(offered);
  }
  EXPECT_GT(rebound, 50);
}

TEST(SyntheticTasks, DeterministicAndIndependentOfEachOther) {
  const V v = synthetic_vocab(256);
  const Task a = synthetic_task("syn_copy", v, 2, 63, 50);
  const Task b = synthetic_task("syn_copy", v, 2, 63, 50);
  for (size_t i = 0; i < a.items.size(); ++i) {
    EXPECT_EQ(a.items[i].context, b.items[i].context);
    EXPECT_EQ(a.items[i].label, b.items[i].label);
  }
  const Task more = synthetic_task("syn_copy", v, 2, 63, 80);  // a longer task starts the same
  EXPECT_EQ(more.items[49].context, a.items[49].context);
}

TEST(SyntheticTasks, Errors) {
  const V v = synthetic_vocab(256);
  EXPECT_EQ(error_of([&] { synthetic_task("syn_nope", v, 2, 63, 5); }),
            "syn_nope: unknown synthetic task (known: syn_brackets, syn_recall, syn_copy, syn_agreement)");
  EXPECT_EQ(error_of([&] { synthetic_task("syn_copy", v, 2, 15, 5); }),
            "model.seq_len: synthetic tasks need model.seq_len >= 17, got 16");
}

}  // namespace
}  // namespace hcx::data
