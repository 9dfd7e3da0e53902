// Min/max-per-bucket point reduction (see reduce.h).
#include "hcx/metrics/reduce.h"

#include <cmath>
#include <cstdint>

#include "hcx/error.h"

namespace hcx::metrics {

std::vector<Point> minmax_reduce(const std::vector<Point>& points, size_t buckets) {
  if (buckets == 0) throw bad_input("minmax_reduce: buckets must be >= 1");
  if (points.size() <= 2 * buckets) return points;
  const double x0 = points.front().x;
  const double width = (points.back().x - x0) / static_cast<double>(buckets);
  std::vector<Point> out;
  out.reserve(2 * buckets + 2);
  out.push_back(points.front());
  const size_t last = points.size() - 1;
  size_t i = 1;
  for (size_t b = 0; b < buckets && i < last; ++b) {
    const double end = b + 1 == buckets ? points.back().x : x0 + width * static_cast<double>(b + 1);
    size_t lo = SIZE_MAX, hi = SIZE_MAX;
    for (; i < last && (points[i].x < end || b + 1 == buckets); ++i) {
      const double y = points[i].y;
      if (!std::isfinite(y)) continue;
      if (lo == SIZE_MAX || y < points[lo].y) lo = i;
      if (hi == SIZE_MAX || y > points[hi].y) hi = i;
    }
    if (lo == SIZE_MAX) continue;  // empty bucket
    if (lo == hi) {
      out.push_back(points[lo]);
    } else {
      out.push_back(points[lo < hi ? lo : hi]);
      out.push_back(points[lo < hi ? hi : lo]);
    }
  }
  out.push_back(points.back());
  return out;
}

}  // namespace hcx::metrics
