// Unfolded HC connections: the Pre-Norm pattern at init, hand-computed
// products, composite gains and quantiles.
#include "hcx/metrics/connections.h"

#include <gtest/gtest.h>

namespace hcx::metrics {
namespace {

// [[0, B], [A_m, A_r]] of a static HC at init for sublayer k: B = 1, A_m = e_{k mod n}, A_r = I.
Matrix init_hc(int64_t n, int64_t k) {
  Matrix m = Matrix::zeros(n + 1, n + 1);
  for (int64_t i = 0; i < n; ++i) {
    m.at(0, i + 1) = 1.0;
    m.at(i + 1, i + 1) = 1.0;
  }
  m.at(1 + k % n, 0) = 1.0;
  return m;
}

TEST(Connections, InitHcUnfoldsToThePreNormPattern) {
  for (int64_t n : {1, 2, 4}) {
    std::vector<Matrix> hc;
    for (int64_t k = 0; k < 6; ++k) hc.push_back(init_hc(n, k));
    const Matrix u = unfold_connections(hc, /*reduce_weight=*/1.0 / static_cast<double>(n));
    ASSERT_EQ(u.rows, 7);
    for (int64_t k = 0; k <= 6; ++k)
      for (int64_t j = 0; j <= 6; ++j) EXPECT_DOUBLE_EQ(u.at(k, j), j <= k ? 1.0 : 0.0) << n << " " << k << " " << j;
    // summing the streams weighs every output n times
    EXPECT_DOUBLE_EQ(unfold_connections(hc, 1.0).at(6, 3), static_cast<double>(n));
  }
}

TEST(Connections, HandComputedTwoStreamCase) {
  // n = 2; sublayer 0 writes only into stream 1 and reads stream 0;
  // sublayer 1 swaps the streams before writing and reads stream 1.
  Matrix m0 = Matrix::zeros(3, 3), m1 = Matrix::zeros(3, 3);
  m0.v = {0, 0, 1,   1, 1, 0,   0, 0, 1};   // B = (0, 1), A_m = (1, 0), A_r = I
  m1.v = {0, 2, 3,   0, 0, 1,   1, 1, 0};   // B = (2, 3), A_m = (0, 1), A_r = swap
  const Matrix u = unfold_connections({m0, m1}, 1.0);
  EXPECT_DOUBLE_EQ(u.at(0, 0), 1.0);  // embedding into sublayer 0: ones . A_m0 = 1
  EXPECT_DOUBLE_EQ(u.at(1, 0), 1.0);  // embedding: ones . I . A_m1 = 1
  EXPECT_DOUBLE_EQ(u.at(1, 1), 1.0);  // y0: B0 . A_m1 = (0,1).(0,1) = 1
  EXPECT_DOUBLE_EQ(u.at(2, 0), 2.0);  // output (sum): ones . I . swap . ones = 2
  EXPECT_DOUBLE_EQ(u.at(2, 1), 1.0);  // y0: (0,1) swap -> (1,0), summed = 1
  EXPECT_DOUBLE_EQ(u.at(2, 2), 5.0);  // y1: B1 summed = 5
  EXPECT_DOUBLE_EQ(u.at(0, 1), 0.0);
}

TEST(Connections, CompositeGainOfScaledMixing) {
  Matrix m = Matrix::zeros(3, 3);
  m.v = {0, 1, 1,   1, 2, 0,   0, -1, 1};  // A_r = [[2, 0], [-1, 1]]
  const CompositeGain g = composite_gain({m, m});  // A_r^2 = [[4, 0], [-3, 1]]
  EXPECT_DOUBLE_EQ(g.product.at(1, 0), -3.0);
  EXPECT_DOUBLE_EQ(g.max_row_sum, 4.0);
  EXPECT_DOUBLE_EQ(g.max_col_sum, 7.0);
}

TEST(Connections, QuantilesInterpolateLikeNumpy) {
  std::vector<double> v;
  for (int i = 0; i <= 100; ++i) v.push_back(100 - i);
  const Quantiles q = quantiles(v);
  EXPECT_DOUBLE_EQ(q.median, 50.0);
  EXPECT_DOUBLE_EQ(q.p5, 5.0);
  EXPECT_DOUBLE_EQ(q.p95, 95.0);
  EXPECT_DOUBLE_EQ(quantiles({1.0, 2.0}).median, 1.5);
}

}  // namespace
}  // namespace hcx::metrics
