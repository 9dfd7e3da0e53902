// Point reduction for plots that keeps spikes (plain C++): the x range is cut
// into equal buckets and each bucket keeps its minimum and its maximum, in x
// order, so a one-step spike survives any zoom level. Never random sampling.
#pragma once

#include <cstddef>
#include <vector>

namespace hcx::metrics {

struct Point {
  double x = 0;
  double y = 0;
};

// Reduces `points` (sorted by x) to at most 2 · buckets + 2 points: the first
// and last point, and per bucket of width (x_last − x_first) / buckets the
// point with the smallest and the one with the largest y (one point when they
// coincide), in x order. Returns the input unchanged when it already has at
// most 2 · buckets points. When reducing, points with a non-finite y are
// never chosen (a diverged tail has no height to plot). buckets >= 1, else
// Error(kBadInput).
std::vector<Point> minmax_reduce(const std::vector<Point>& points, size_t buckets);

}  // namespace hcx::metrics
