// The learned connections of hyper-connections, unfolded over depth (docs/method.md,
// "Learned connections"; plain C++). Each sublayer k has the (n+1)x(n+1) matrix
//   [[0, B_k], [A_m_k, A_r_k]]   (layout of model/hyper_connections.h)
// with H' = B^T y + A_r^T H and h0 = A_m^T H. Unrolling the recursion, the
// input of sublayer k is a weighted sum of the embedding and every earlier
// sublayer output j < k:
//   c_kj = B_j (A_r_{j+1} ... A_r_{k-1}) A_m_k,   embedding: B_{-1} = ones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hcx::metrics {

// A dense row-major matrix.
struct Matrix {
  int64_t rows = 0, cols = 0;
  std::vector<double> v;
  double at(int64_t r, int64_t c) const { return v[static_cast<size_t>(r * cols + c)]; }
  double& at(int64_t r, int64_t c) { return v[static_cast<size_t>(r * cols + c)]; }
  static Matrix zeros(int64_t rows, int64_t cols);
  static Matrix identity(int64_t n);
};

Matrix matmul(const Matrix& a, const Matrix& b);

// The unfolded connection matrix of K sublayers, (K+1) x (K+1): row k < K is
// the input of sublayer k, row K the model's output after the stream
// reduction (`reduce_weight` per stream: 1 for "sum", 1/n for "mean"); column
// 0 is the embedding, column j+1 the output of sublayer j. Entries on or above
// the diagonal (j >= k) are 0. `hc` holds the K matrices (each (n+1)x(n+1)).
// For Pre-Norm-equivalent matrices (B = 1, A_m one-hot, A_r = I) every entry
// below the diagonal is 1 (the last row n with "sum").
Matrix unfold_connections(const std::vector<Matrix>& hc, double reduce_weight);

// The composite stream mixing A_r_0 A_r_1 ... A_r_{K-1} (n x n) and its gain:
// max absolute row sum and max absolute column sum (mHC reports ~3000 for HC
// at 27B, ~1.6 for mHC).
struct CompositeGain {
  Matrix product;
  double max_row_sum = 0;
  double max_col_sum = 0;
};
CompositeGain composite_gain(const std::vector<Matrix>& hc);

// Median, 5th and 95th percentile of `values` (linear interpolation between
// order statistics, as numpy's default). Empty input gives zeros.
struct Quantiles {
  double p5 = 0, median = 0, p95 = 0;
};
Quantiles quantiles(std::vector<double> values);

}  // namespace hcx::metrics
