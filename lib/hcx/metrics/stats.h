// Seed statistics for comparisons (plain C++): mean ± std over seeds, Student t
// quantiles, and the mean of paired per-seed differences with its confidence
// interval. "Is the variant better than the baseline by more than noise?"
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace hcx::metrics {

// Mean and sample standard deviation (n - 1 in the denominator) of n values.
// n == 0: mean and std are NaN; n == 1: std is NaN (one seed has no spread).
struct Summary {
  int64_t n = 0;
  double mean = 0;
  double std = 0;
};
Summary summarize(const std::vector<double>& values);

// The p-quantile of Student's t distribution with `df` degrees of freedom
// (df > 0, not necessarily an integer; 0 < p < 1), accurate to ~1e-10:
// t_{0.975, 1} = 12.7062, t_{0.975, 10} = 2.2281, t_{0.975, inf} -> 1.95996.
// Computed by inverting the CDF, which is the regularized incomplete beta
// function evaluated by its continued fraction. Throws Error(kBadInput) for p
// or df out of range.
double student_t_quantile(double p, double df);

// Student's t cumulative distribution function P(T <= t) for `df` > 0.
double student_t_cdf(double t, double df);

// The mean of paired differences d_i = variant_i - baseline_i and its
// two-sided confidence interval mean ± t_{(1+level)/2, n-1} · std / sqrt(n).
struct PairedDifference {
  int64_t n = 0;        // pairs
  double mean = 0;      // mean of d_i
  double std = 0;       // sample std of d_i (NaN when n < 2)
  double ci_low = 0;    // NaN when n < 2: one pair gives no interval
  double ci_high = 0;
  double level = 0.95;
  // The interval contains 0 (or does not exist): the difference may be noise.
  bool contains_zero() const;
};
// `variant` and `baseline` are aligned pairs; throws Error(kBadInput) when
// their sizes differ, or level is not in (0, 1).
PairedDifference paired_difference(const std::vector<double>& variant,
                                   const std::vector<double>& baseline, double level = 0.95);

}  // namespace hcx::metrics
