// The synthetic language: layout, determinism, speed, and the structure it
// promises (balanced brackets, answerable recall, exact copies, agreement).
#include "hcx/data/synthetic.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>

#include "test_util.h"

namespace hcx::data {
namespace {

using V = SyntheticVocab;
using testing::error_of;

// What a parse of the corpus found; every violation is counted.
struct Stats {
  int64_t docs = 0, groups = 0, bad_brackets = 0, gets = 0, bad_gets = 0, copies = 0, bad_copies = 0;
  int64_t sentences = 0, bad_agreement = 0, with_pp = 0, unknown = 0;
  double depth_sum = 0, span_sum = 0, recall_distance_sum = 0, copy_len_sum = 0;
  double mean_depth() const { return depth_sum / groups; }
  double mean_span() const { return span_sum / groups; }
  double mean_recall_distance() const { return recall_distance_sum / gets; }
  double mean_copy() const { return copy_len_sum / copies; }
  double pp_share() const { return static_cast<double>(with_pp) / sentences; }
};

int number_of(const V& v, int32_t id) {  // 0 singular, 1 plural, -1 neither
  if (v.det_sg.contains(id) || v.noun_sg.contains(id) || v.verb_sg.contains(id)) return 0;
  if (v.det_pl.contains(id) || v.noun_pl.contains(id) || v.verb_pl.contains(id)) return 1;
  return -1;
}

// Parses whole documents of `ids` (the last, possibly cut one is skipped).
Stats parse(const V& v, const std::vector<int32_t>& ids) {
  Stats st;
  size_t end = ids.size();
  while (end > 0 && ids[end - 1] != V::kDoc) --end;  // start of the last document
  size_t i = 0;
  std::map<int32_t, std::pair<int32_t, size_t>> bound;  // key -> (value, position of its set)
  while (i + 1 < end) {
    const int32_t t = ids[i];
    if (t == V::kDoc) {
      ++st.docs;
      bound.clear();
      ++i;
    } else if (V::is_open(t)) {
      std::vector<int32_t> stack;
      const size_t start = i;
      int depth = 0;
      do {
        if (V::is_open(ids[i])) {
          stack.push_back(ids[i]);
          depth = std::max<int>(depth, static_cast<int>(stack.size()));
        } else if (V::is_close(ids[i])) {
          if (stack.empty() || V::bracket_type(stack.back()) != V::bracket_type(ids[i])) ++st.bad_brackets;
          if (!stack.empty()) stack.pop_back();
        }
        ++i;
      } while (!stack.empty() && i < end);
      ++st.groups;
      st.depth_sum += depth;
      st.span_sum += static_cast<double>(i - start);
    } else if (t == V::kSet) {
      bound[ids[i + 1]] = {ids[i + 2], i};
      i += 3;
    } else if (t == V::kGet) {
      ++st.gets;
      auto it = bound.find(ids[i + 1]);
      if (it == bound.end() || it->second.first != ids[i + 2]) {
        ++st.bad_gets;
      } else {
        st.recall_distance_sum += static_cast<double>(i - it->second.second);
      }
      i += 3;
    } else if (t == V::kCopy) {
      size_t p = i + 1;
      while (ids[p] != V::kPaste) ++p;
      const size_t n = p - i - 1;
      ++st.copies;
      st.copy_len_sum += static_cast<double>(n);
      if (!std::equal(ids.begin() + i + 1, ids.begin() + p, ids.begin() + p + 1) || ids[p + 1 + n] != V::kEnd)
        ++st.bad_copies;
      i = p + n + 2;
    } else if (v.det_sg.contains(t) || v.det_pl.contains(t)) {
      // A sentence: det .. head noun [prep ...] verb ... "."
      size_t p = i;
      int head = -1, verb = -1;
      bool pp = false;
      for (; ids[p] != V::kEnd; ++p) {
        if (head < 0 && (v.noun_sg.contains(ids[p]) || v.noun_pl.contains(ids[p]))) head = number_of(v, ids[p]);
        if (verb < 0 && (v.verb_sg.contains(ids[p]) || v.verb_pl.contains(ids[p]))) verb = number_of(v, ids[p]);
        if (verb < 0 && v.prep.contains(ids[p])) pp = true;
      }
      ++st.sentences;
      st.with_pp += pp;
      if (head < 0 || head != verb || number_of(v, t) != head) ++st.bad_agreement;
      i = p + 1;
    } else {
      ++st.unknown;
      ++i;
    }
  }
  return st;
}

TEST(SyntheticVocab, LayoutIsDisjointContiguousAndFillsTheIds) {
  for (int64_t size : {48, 64, 100, 256}) {
    const V v = synthetic_vocab(size);
    EXPECT_EQ(v.size, size);
    const IdRange ranges[] = {v.keys, v.values, v.det_sg, v.det_pl, v.noun_sg, v.noun_pl,
                              v.verb_sg, v.verb_pl, v.adj, v.adv, v.prep};
    int32_t next = 14;
    for (const auto& r : ranges) {
      EXPECT_EQ(r.first, next) << size;
      EXPECT_GE(r.count, 1) << size;
      next += r.count;
    }
    EXPECT_EQ(next, size);
    EXPECT_EQ(v.noun_sg.count, v.noun_pl.count);
    EXPECT_EQ(v.verb_sg.count, v.verb_pl.count);
    EXPECT_GE(v.keys.count, 4);
    EXPECT_EQ(v.words.first + v.words.count, size);
  }
}

TEST(SyntheticVocab, TooSmallIsAClearError) {
  EXPECT_EQ(error_of([] { synthetic_vocab(47); }),
            "model.vocab_size: the synthetic language needs at least 48 ids, got 47");
}

TEST(SyntheticVocab, LargerVocabulariesUseTheLanguageOf256) {
  EXPECT_EQ(synthetic_vocab(50304).size, 256);
  EXPECT_EQ(generate_synthetic(synthetic_vocab(1000), 2, 5000), generate_synthetic(synthetic_vocab(256), 2, 5000));
}

TEST(SyntheticVocab, TokenNames) {
  const V v = synthetic_vocab(256);
  EXPECT_EQ(token_name(v, V::kDoc), "<doc>");
  EXPECT_EQ(token_name(v, V::close(1)), "]");
  EXPECT_EQ(token_name(v, v.keys.at(3)), "k3");
  EXPECT_EQ(token_name(v, v.verb_pl.at(0)), "vpl0");
  EXPECT_EQ(render(v, {V::kSet, v.keys.at(1), v.values.at(2)}), "set k1 v2");
}

TEST(Synthetic, DeterministicAndAPrefixOfLongerCorpora) {
  const V v = synthetic_vocab(256);
  const auto a = generate_synthetic(v, 2, 20000);
  EXPECT_EQ(a, generate_synthetic(v, 2, 20000));
  const auto longer = generate_synthetic(v, 2, 50000);
  EXPECT_TRUE(std::equal(a.begin(), a.end(), longer.begin()));
  EXPECT_NE(a, generate_synthetic(v, 3, 20000));
  EXPECT_NE(a, generate_synthetic(v, 2, 20000, kSyntheticCorpusSeed + 1));
}

TEST(Synthetic, OneMillionTokensWellUnderASecond) {
  const V v = synthetic_vocab(256);
  for (int64_t d = 1; d <= 4; ++d) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto ids = generate_synthetic(v, d, 1 << 20);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(ids.size(), size_t{1} << 20);
    EXPECT_LT(ms, 1000.0) << "difficulty " << d;
    std::printf("[ measure  ] synthetic difficulty %lld: 1M tokens in %.1f ms\n", static_cast<long long>(d), ms);
  }
}

TEST(Synthetic, EveryStructureHoldsAtEveryDifficultyAndVocabulary) {
  for (int64_t size : {48, 64, 256}) {
    const V v = synthetic_vocab(size);
    for (int64_t d = 1; d <= 4; ++d) {
      const auto ids = generate_synthetic(v, d, 200000);
      for (int32_t id : ids) ASSERT_LT(id, size);
      const Stats st = parse(v, ids);
      const std::string where = "vocab " + std::to_string(size) + " difficulty " + std::to_string(d);
      EXPECT_GT(st.docs, 10) << where;
      EXPECT_GT(st.groups, 100) << where;
      EXPECT_GT(st.gets, 100) << where;
      EXPECT_GT(st.copies, 50) << where;
      EXPECT_GT(st.sentences, 500) << where;
      EXPECT_EQ(st.bad_brackets, 0) << where;
      EXPECT_EQ(st.bad_gets, 0) << where;
      EXPECT_EQ(st.bad_copies, 0) << where;
      EXPECT_EQ(st.bad_agreement, 0) << where;
      EXPECT_EQ(st.unknown, 0) << where;
    }
  }
}

TEST(Synthetic, ParserCatchesBrokenStructure) {
  // The checks above can fail: corrupt one closer, one recalled value, one copy.
  const V v = synthetic_vocab(256);
  auto ids = generate_synthetic(v, 2, 20000);
  const auto close = std::find_if(ids.begin(), ids.end(), [](int32_t t) { return V::is_close(t); });
  *close = *close == V::close(0) ? V::close(1) : V::close(0);
  const auto get = std::find(ids.begin(), ids.end(), V::kGet);
  get[2] = get[2] == v.values.at(0) ? v.values.at(1) : v.values.at(0);
  const Stats st = parse(v, ids);
  EXPECT_EQ(st.bad_brackets, 1);
  EXPECT_EQ(st.bad_gets, 1);
}

TEST(Synthetic, DifficultyLengthensEveryRange) {
  const V v = synthetic_vocab(256);
  Stats st[5];
  for (int64_t d = 1; d <= 4; ++d) st[d] = parse(v, generate_synthetic(v, d, 400000));
  for (int64_t d = 1; d < 4; ++d) {
    EXPECT_LT(st[d].mean_recall_distance(), st[d + 1].mean_recall_distance()) << d;
    EXPECT_LT(st[d].pp_share(), st[d + 1].pp_share()) << d;
    EXPECT_LT(st[d].mean_copy(), st[d + 1].mean_copy()) << d;
    EXPECT_LT(st[d].mean_span(), st[d + 1].mean_span()) << d;
  }
  EXPECT_LT(st[1].mean_depth() * 1.5, st[4].mean_depth());
  for (int64_t d = 1; d <= 4; ++d)
    std::printf("[ measure  ] difficulty %lld: recall distance %.0f, PP share %.2f, bracket depth %.2f span %.1f, "
                "copy %.1f\n",
                static_cast<long long>(d), st[d].mean_recall_distance(), st[d].pp_share(), st[d].mean_depth(),
                st[d].mean_span(), st[d].mean_copy());
}

TEST(SyntheticParams, RejectsUnknownDifficulty) {
  EXPECT_EQ(error_of([] { synthetic_params(5); }), "data.difficulty: expected an integer from 1 to 4, got 5");
}

}  // namespace
}  // namespace hcx::data
