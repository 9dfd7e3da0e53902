// Plot reduction keeps every bucket's min and max, so spikes survive.
#include "hcx/metrics/reduce.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "hcx/error.h"

namespace hcx::metrics {
namespace {

std::vector<Point> noisy(int n) {
  std::vector<Point> p;
  for (int i = 0; i < n; ++i) p.push_back({static_cast<double>(i), 2.0 + 0.01 * (i % 7)});
  return p;
}

TEST(MinmaxReduce, KeepsASingleStepSpikeAndItsDip) {
  std::vector<Point> p = noisy(10000);
  p[4321].y = 50.0;
  p[7777].y = -3.0;
  const std::vector<Point> r = minmax_reduce(p, 100);
  EXPECT_LE(r.size(), 202u);
  bool spike = false, dip = false;
  for (const Point& q : r) {
    spike |= q.x == 4321 && q.y == 50.0;
    dip |= q.x == 7777 && q.y == -3.0;
  }
  EXPECT_TRUE(spike);
  EXPECT_TRUE(dip);
  EXPECT_EQ(r.front().x, 0);
  EXPECT_EQ(r.back().x, 9999);
  for (size_t i = 1; i < r.size(); ++i) EXPECT_LT(r[i - 1].x, r[i].x);
}

TEST(MinmaxReduce, BucketsHoldMinThenMaxInXOrder) {
  // 10 points, 2 buckets of width 4.5: [0, 4.5) and [4.5, 9].
  const std::vector<Point> p = {{0, 5}, {1, 9}, {2, 1}, {3, 4}, {4, 6},
                                {5, 2}, {6, 8}, {7, 3}, {8, 7}, {9, 0}};
  const std::vector<Point> r = minmax_reduce(p, 2);
  const std::vector<double> xs = [&] {
    std::vector<double> v;
    for (const Point& q : r) v.push_back(q.x);
    return v;
  }();
  EXPECT_EQ(xs, (std::vector<double>{0, 1, 2, 5, 6, 9}));
}

TEST(MinmaxReduce, SmallInputsPassThroughAndNaNIsNeverChosen) {
  const std::vector<Point> small = noisy(8);
  const std::vector<Point> same = minmax_reduce(small, 4);
  ASSERT_EQ(same.size(), 8u);
  std::vector<Point> p = noisy(100);
  p[50].y = std::numeric_limits<double>::quiet_NaN();
  for (const Point& q : minmax_reduce(p, 10)) EXPECT_TRUE(std::isfinite(q.y));
  EXPECT_THROW(minmax_reduce(p, 0), Error);
}

}  // namespace
}  // namespace hcx::metrics
