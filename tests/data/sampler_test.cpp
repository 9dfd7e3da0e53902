// Batch window sampling: keyed by (seed, step, micro) only, in range, val fixed.
#include "hcx/data/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

namespace hcx::data {
namespace {

constexpr int64_t kB = 16, kT = 128, kN = 100000;

TEST(TrainWindowStarts, SameKeySameWindows) {
  EXPECT_EQ(train_window_starts(7, 42, 0, kB, kT, kN), train_window_starts(7, 42, 0, kB, kT, kN));
}

TEST(TrainWindowStarts, IndependentOfCallOrder) {
  // Step 5 drawn first, or after steps 0..4, or after step 9: the same windows.
  const auto alone = train_window_starts(3, 5, 1, kB, kT, kN);
  for (int64_t s = 0; s < 10; ++s) (void)train_window_starts(3, s, 0, kB, kT, kN);
  EXPECT_EQ(train_window_starts(3, 5, 1, kB, kT, kN), alone);
}

TEST(TrainWindowStarts, SeedStepAndMicroEachChangeTheWindows) {
  const auto base = train_window_starts(1, 10, 0, kB, kT, kN);
  EXPECT_NE(train_window_starts(2, 10, 0, kB, kT, kN), base);
  EXPECT_NE(train_window_starts(1, 11, 0, kB, kT, kN), base);
  EXPECT_NE(train_window_starts(1, 10, 1, kB, kT, kN), base);
}

TEST(TrainWindowStarts, RowsArePrefixStableAcrossBatchSizes) {
  // Row b's start depends on (seed, step, micro, b) only.
  const auto small = train_window_starts(1, 3, 0, 4, kT, kN);
  const auto large = train_window_starts(1, 3, 0, 8, kT, kN);
  EXPECT_TRUE(std::equal(small.begin(), small.end(), large.begin()));
}

TEST(TrainWindowStarts, CoverTheWholeValidRangeAndNoMore) {
  // A stream of T + 4 tokens has exactly 4 valid starts: 0..3.
  std::set<int64_t> seen;
  for (int64_t step = 0; step < 200; ++step)
    for (int64_t s : train_window_starts(0, step, 0, 8, kT, kT + 4)) seen.insert(s);
  EXPECT_EQ(seen, (std::set<int64_t>{0, 1, 2, 3}));
}

TEST(TrainWindowStarts, RoughlyUniform) {
  // 4 buckets over 64k draws: each within 3 % of a quarter.
  int64_t counts[4] = {};
  const int64_t n = kT + 1 + 4000;
  for (int64_t step = 0; step < 4096; ++step)
    for (int64_t s : train_window_starts(9, step, 0, kB, kT, n)) ++counts[s * 4 / (n - kT)];
  for (int64_t c : counts) EXPECT_NEAR(c, 4096 * kB / 4, 4096 * kB / 4 * 0.03) << c;
}

TEST(ValWindowStarts, EvenlySpreadFromFirstToLastValidStart) {
  const auto starts = val_window_starts(2, 4, 10, 1011);  // 8 windows, last valid start 1000
  ASSERT_EQ(starts.size(), 8u);
  EXPECT_EQ(starts.front(), 0);
  EXPECT_EQ(starts.back(), 1000);
  for (size_t i = 1; i < starts.size(); ++i) EXPECT_NEAR(starts[i] - starts[i - 1], 1000.0 / 7, 1.0);
}

TEST(ValWindowStarts, OneWindowAndTinyStreams) {
  EXPECT_EQ(val_window_starts(1, 1, 10, 50), std::vector<int64_t>{0});
  EXPECT_EQ(val_window_starts(1, 3, 10, 11), (std::vector<int64_t>{0, 0, 0}));  // one window only: repeated
}

TEST(FillWindows, YIsXShiftedByOne) {
  std::vector<int32_t> ids(300);
  std::iota(ids.begin(), ids.end(), 0);
  const TokenSpan tokens = TokenSpan::from_ids(ids);
  const std::vector<int64_t> starts{0, 17, 299 - 5};
  std::vector<int64_t> x(3 * 5), y(3 * 5);
  fill_windows(tokens, starts, 5, x.data(), y.data());
  for (size_t b = 0; b < 3; ++b)
    for (int64_t t = 0; t < 5; ++t) {
      EXPECT_EQ(x[b * 5 + t], starts[b] + t);
      EXPECT_EQ(y[b * 5 + t], starts[b] + t + 1);
    }
}

}  // namespace
}  // namespace hcx::data
