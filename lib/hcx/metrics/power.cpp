// Minimum detectable effect and seeds needed (see power.h).
#include "hcx/metrics/power.h"

#include <cmath>
#include <limits>
#include <string>

#include "hcx/error.h"

namespace hcx::metrics {
namespace {

void check(const PowerOptions& opt) {
  if (!(opt.alpha > 0 && opt.alpha < 1)) throw bad_input("power: alpha must be in (0, 1), got " + std::to_string(opt.alpha));
  if (!(opt.power > 0 && opt.power < 1)) throw bad_input("power: power must be in (0, 1), got " + std::to_string(opt.power));
}

}  // namespace

double min_detectable_effect(double s, int64_t n, const PowerOptions& opt) {
  check(opt);
  if (n < 2 || !std::isfinite(s)) return std::numeric_limits<double>::quiet_NaN();
  const double df = static_cast<double>(n - 1);
  const double t = student_t_quantile(1.0 - opt.alpha / 2.0, df) + student_t_quantile(opt.power, df);
  return t * s / std::sqrt(static_cast<double>(n));
}

SeedsNeeded seeds_needed(double delta, double s, const PowerOptions& opt) {
  check(opt);
  const double target = std::abs(delta);
  if (!std::isfinite(target) || !std::isfinite(s) || target == 0 || s == 0) return {};
  if (opt.max_seeds < 2 || min_detectable_effect(s, opt.max_seeds, opt) > target) {
    return {SeedsNeeded::Kind::kAboveCap, 0};
  }
  // Invariant: MDE(hi) <= target, and MDE(lo) > target unless lo == 2 is itself enough.
  int64_t lo = 2, hi = opt.max_seeds;
  if (min_detectable_effect(s, lo, opt) <= target) return {SeedsNeeded::Kind::kFound, lo};
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    (min_detectable_effect(s, mid, opt) <= target ? hi : lo) = mid;
  }
  return {SeedsNeeded::Kind::kFound, hi};
}

SeedPower seed_power(const PairedDifference& d, const PowerOptions& opt) {
  return {min_detectable_effect(d.std, d.n, opt), seeds_needed(d.mean, d.std, opt)};
}

}  // namespace hcx::metrics
