// Seed statistics and Student t quantiles (see stats.h).
//
// The t CDF is written through the regularized incomplete beta function,
// P(|T| > t) = I_x(df/2, 1/2) with x = df / (df + t^2), evaluated by its
// continued fraction (Abramowitz & Stegun 26.5.8) with the modified Lentz
// method; the quantile inverts the CDF by bisection, which is slower than
// Newton's method but cannot fail, and the report needs a handful per run.
#include "hcx/metrics/stats.h"

#include <cmath>
#include <limits>
#include <string>

#include "hcx/error.h"

namespace hcx::metrics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Continued fraction for I_x(a, b), valid (fast) for x < (a + 1) / (a + b + 2).
double beta_continued_fraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  constexpr double kEps = 1e-15;
  double c = 1.0;
  double d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::abs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double f = d;
  for (int m = 1; m <= 10000; ++m) {
    // Even step: d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m)).
    const double even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
    d = 1.0 + even * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1.0 + even / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    f *= d * c;
    // Odd step: d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)).
    const double odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
    d = 1.0 + odd * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1.0 + odd / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double delta = d * c;
    f *= delta;
    if (std::abs(delta - 1.0) < kEps) break;
  }
  return f;
}

// Regularized incomplete beta I_x(a, b) for 0 <= x <= 1, a, b > 0.
double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double log_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) +
                           b * std::log1p(-x);
  const double front = std::exp(log_front);
  if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_continued_fraction(a, b, x) / a;
  return 1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b;  // symmetry I_x(a,b) = 1 - I_{1-x}(b,a)
}

}  // namespace

Summary summarize(const std::vector<double>& values) {
  Summary s;
  s.n = static_cast<int64_t>(values.size());
  if (s.n == 0) return {0, kNaN, kNaN};
  double total = 0;
  for (double v : values) total += v;
  s.mean = total / static_cast<double>(s.n);
  if (s.n < 2) {
    s.std = kNaN;
    return s;
  }
  double sq = 0;
  for (double v : values) sq += (v - s.mean) * (v - s.mean);
  s.std = std::sqrt(sq / static_cast<double>(s.n - 1));
  return s;
}

double student_t_cdf(double t, double df) {
  if (!(df > 0)) throw bad_input("student_t_cdf: degrees of freedom must be > 0, got " + std::to_string(df));
  if (std::isinf(t)) return t > 0 ? 1.0 : 0.0;
  const double tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t));  // P(T > |t|)
  return t >= 0 ? 1.0 - tail : tail;
}

double student_t_quantile(double p, double df) {
  if (!(p > 0 && p < 1)) throw bad_input("student_t_quantile: p must be in (0, 1), got " + std::to_string(p));
  if (!(df > 0) || std::isinf(df)) {
    throw bad_input("student_t_quantile: degrees of freedom must be finite and > 0, got " + std::to_string(df));
  }
  if (p == 0.5) return 0.0;
  if (p < 0.5) return -student_t_quantile(1.0 - p, df);
  // Bracket the quantile in [0, hi], then bisect to machine precision.
  double lo = 0.0, hi = 1.0;
  while (student_t_cdf(hi, df) < p) {
    lo = hi;
    hi *= 2.0;
    if (hi > 1e300) return std::numeric_limits<double>::infinity();
  }
  for (int i = 0; i < 200 && hi - lo > 1e-13 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (student_t_cdf(mid, df) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

bool PairedDifference::contains_zero() const {
  if (std::isnan(ci_low) || std::isnan(ci_high)) return true;
  return ci_low <= 0.0 && ci_high >= 0.0;
}

PairedDifference paired_difference(const std::vector<double>& variant,
                                   const std::vector<double>& baseline, double level) {
  if (variant.size() != baseline.size()) {
    throw bad_input("paired_difference: " + std::to_string(variant.size()) + " variant values but " +
                    std::to_string(baseline.size()) + " baseline values");
  }
  if (!(level > 0 && level < 1)) throw bad_input("paired_difference: level must be in (0, 1)");
  std::vector<double> diffs;
  diffs.reserve(variant.size());
  for (size_t i = 0; i < variant.size(); ++i) diffs.push_back(variant[i] - baseline[i]);
  const Summary s = summarize(diffs);
  PairedDifference d;
  d.n = s.n;
  d.mean = s.mean;
  d.std = s.std;
  d.level = level;
  if (s.n < 2) {
    d.ci_low = d.ci_high = kNaN;
    return d;
  }
  const double half = student_t_quantile(0.5 + level / 2.0, static_cast<double>(s.n - 1)) * s.std /
                      std::sqrt(static_cast<double>(s.n));
  d.ci_low = s.mean - half;
  d.ci_high = s.mean + half;
  return d;
}

}  // namespace hcx::metrics
