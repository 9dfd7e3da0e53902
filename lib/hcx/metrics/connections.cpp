// Unfolded HC connections and composite gains; see connections.h.
#include "hcx/metrics/connections.h"

#include <algorithm>
#include <cmath>

namespace hcx::metrics {
namespace {

// Parts of one sublayer's (n+1)x(n+1) HC matrix.
Matrix a_r(const Matrix& m) {
  const int64_t n = m.rows - 1;
  Matrix r = Matrix::zeros(n, n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) r.at(i, j) = m.at(i + 1, j + 1);
  return r;
}

double percentile(const std::vector<double>& sorted, double p) {
  const double pos = p * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

}  // namespace

Matrix Matrix::zeros(int64_t rows, int64_t cols) {
  Matrix m;
  m.rows = rows;
  m.cols = cols;
  m.v.assign(static_cast<size_t>(rows * cols), 0.0);
  return m;
}

Matrix Matrix::identity(int64_t n) {
  Matrix m = zeros(n, n);
  for (int64_t i = 0; i < n; ++i) m.at(i, i) = 1.0;
  return m;
}

Matrix matmul(const Matrix& a, const Matrix& b) {
  Matrix c = Matrix::zeros(a.rows, b.cols);
  for (int64_t i = 0; i < a.rows; ++i)
    for (int64_t k = 0; k < a.cols; ++k)
      for (int64_t j = 0; j < b.cols; ++j) c.at(i, j) += a.at(i, k) * b.at(k, j);
  return c;
}

Matrix unfold_connections(const std::vector<Matrix>& hc, double reduce_weight) {
  const int64_t K = static_cast<int64_t>(hc.size());
  Matrix out = Matrix::zeros(K + 1, K + 1);
  if (K == 0) return out;
  const int64_t n = hc[0].rows - 1;
  // writes[j]: the row vector written into the streams by source j (1 x n):
  // ones for the embedding, B_j for sublayer j.
  std::vector<Matrix> writes;
  Matrix ones = Matrix::zeros(1, n);
  std::fill(ones.v.begin(), ones.v.end(), 1.0);
  writes.push_back(ones);
  for (const auto& m : hc) {
    Matrix b = Matrix::zeros(1, n);
    for (int64_t i = 0; i < n; ++i) b.at(0, i) = m.at(0, i + 1);
    writes.push_back(b);
  }
  // carried[j] = writes[j] A_r_{j+1} ... A_r_{k-1}: where source j's signal sits
  // in the streams that enter sublayer k; updated as k advances.
  std::vector<Matrix> carried;
  for (int64_t k = 0; k <= K; ++k) {
    carried.push_back(writes[static_cast<size_t>(k)]);  // source k-1 (embedding at k = 0) enters here
    // read vector of row k: A_m_k (n x 1), or the reduction for the output row
    Matrix read = Matrix::zeros(n, 1);
    for (int64_t i = 0; i < n; ++i) read.at(i, 0) = k < K ? hc[static_cast<size_t>(k)].at(i + 1, 0) : reduce_weight;
    for (int64_t j = 0; j <= k; ++j) out.at(k, j) = matmul(carried[static_cast<size_t>(j)], read).at(0, 0);
    if (k < K) {
      const Matrix mix = a_r(hc[static_cast<size_t>(k)]);
      for (auto& c : carried) c = matmul(c, mix);
    }
  }
  return out;
}

CompositeGain composite_gain(const std::vector<Matrix>& hc) {
  CompositeGain g;
  if (hc.empty()) return g;
  g.product = Matrix::identity(hc[0].rows - 1);
  for (const auto& m : hc) g.product = matmul(g.product, a_r(m));
  for (int64_t i = 0; i < g.product.rows; ++i) {
    double row = 0, col = 0;
    for (int64_t j = 0; j < g.product.cols; ++j) {
      row += std::fabs(g.product.at(i, j));
      col += std::fabs(g.product.at(j, i));
    }
    g.max_row_sum = std::max(g.max_row_sum, row);
    g.max_col_sum = std::max(g.max_col_sum, col);
  }
  return g;
}

Quantiles quantiles(std::vector<double> values) {
  Quantiles q;
  if (values.empty()) return q;
  std::sort(values.begin(), values.end());
  q.p5 = percentile(values, 0.05);
  q.median = percentile(values, 0.5);
  q.p95 = percentile(values, 0.95);
  return q;
}

}  // namespace hcx::metrics
