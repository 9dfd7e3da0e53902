// How many seeds would settle a comparison (plain C++): the minimum detectable
// effect of a paired-difference t test with the seeds at hand, and the number
// of seeds that would detect the observed difference (the report's MDE and "seeds for Δ").
//
// Both use the normal-shift approximation of the paired t test's power, with
// s the sample standard deviation of the n paired differences taken as the
// true one:
//
//   MDE(n) = (t_{1-α/2, n-1} + t_{power, n-1}) · s / √n
//
// (α = 0.05 two-sided and power 0.8 by default: t_{0.975, n-1} + t_{0.8, n-1}).
// It is the |Δ| that a test with n pairs rejects with probability `power`;
// for large n it tends to (1.95996 + 0.84162) · s / √n. It ignores the
// chance of rejecting on the wrong side and uses the central t for the
// power term (no noncentral-t iteration), so for small n it is a little
// optimistic: the exact power at MDE(n) is somewhat below `power`.
#pragma once

#include <cstdint>

#include "hcx/metrics/stats.h"

namespace hcx::metrics {

struct PowerOptions {
  double alpha = 0.05;      // two-sided significance level
  double power = 0.8;       // probability of detecting an effect of size MDE
  int64_t max_seeds = 10000;  // seeds_needed searches no further ("> 10000")
};

// MDE(n) above for n >= 2 pairs and s >= 0; NaN when n < 2 or s is not
// finite (one pair has no spread). Throws Error(kBadInput) when alpha or
// power is not in (0, 1).
double min_detectable_effect(double s, int64_t n, const PowerOptions& opt = {});

struct SeedsNeeded {
  enum class Kind {
    kNotApplicable,  // s = 0, Δ = 0, or either not finite: the question has no answer
    kFound,          // `seeds` is the answer
    kAboveCap,       // MDE(max_seeds) > |Δ|: "> 10000"
  };
  Kind kind = Kind::kNotApplicable;
  int64_t seeds = 0;  // with kFound: the smallest n' >= 2 with MDE(n') <= |delta|
};

// The smallest n' >= 2 with MDE(n') <= |delta| at the same s. MDE is
// strictly decreasing in n' (both quantiles fall with the degrees of freedom,
// and so does 1/√n'), so this bisects over [2, max_seeds]: about 14
// evaluations. Throws as min_detectable_effect does.
SeedsNeeded seeds_needed(double delta, double s, const PowerOptions& opt = {});

// Both for one paired difference: MDE at its n, seeds for its mean.
struct SeedPower {
  double mde = 0;  // NaN when d.n < 2
  SeedsNeeded needed;
};
SeedPower seed_power(const PairedDifference& d, const PowerOptions& opt = {});

}  // namespace hcx::metrics
