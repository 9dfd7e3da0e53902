// Minimum detectable effect and seeds needed against values worked out
// independently: the closed-form t quantiles for df = 1 (tan(π(p − ½))) and
// df = 2 ((2p − 1)/√(2p(1 − p))), the normal limit for large n, and
// 30-digit mpmath quantiles (regularized incomplete beta, bisected) for the rest.
#include "hcx/metrics/power.h"

#include <cmath>

#include <gtest/gtest.h>

#include "hcx/error.h"

namespace hcx::metrics {
namespace {

constexpr double kPi = 3.14159265358979323846;

TEST(MinDetectableEffect, ClosedFormsForOneAndTwoDegreesOfFreedom) {
  // n = 2 (df 1): (tan(0.475π) + tan(0.3π)) · s/√2.
  const double df1 = std::tan(0.475 * kPi) + std::tan(0.3 * kPi);
  EXPECT_NEAR(min_detectable_effect(0.02, 2), df1 * 0.02 / std::sqrt(2.0), 1e-10);
  EXPECT_NEAR(min_detectable_effect(0.02, 2), 0.199157850431, 1e-10);
  // n = 3 (df 2): t_{0.975,2} = 0.95/√0.04875 = 4.302653, t_{0.8,2} = 0.6/√0.32 = 1.060660.
  const double df2 = 0.95 / std::sqrt(2 * 0.975 * 0.025) + 0.6 / std::sqrt(2 * 0.8 * 0.2);
  EXPECT_NEAR(min_detectable_effect(0.02, 3), df2 * 0.02 / std::sqrt(3.0), 1e-10);
  EXPECT_NEAR(min_detectable_effect(0.02, 3), 0.0619302029489, 1e-10);
}

TEST(MinDetectableEffect, MatchesReferenceValues) {
  const struct {
    double s;
    int64_t n;
    double mde;
  } cases[] = {{1, 5, 1.66247615003}, {1, 10, 0.99471373501}, {1, 30, 0.529359543127}, {2, 30, 1.058719086255},
               {1, 10000, 0.0280185844636}};
  for (const auto& c : cases) EXPECT_NEAR(min_detectable_effect(c.s, c.n), c.mde, 1e-9) << "n=" << c.n;
}

TEST(MinDetectableEffect, TendsToTheNormalApproximation) {
  // (z_{0.975} + z_{0.8}) · s/√n = (1.959964 + 0.841621) · s/√n; t is a little wider.
  const double normal = (1.959963985 + 0.841621234) * 0.5 / std::sqrt(1e6);
  EXPECT_NEAR(min_detectable_effect(0.5, 1000000), normal, 1e-6 * normal);
  EXPECT_GT(min_detectable_effect(0.5, 1000000), normal);
}

TEST(MinDetectableEffect, UndefinedWithoutSpread) {
  EXPECT_TRUE(std::isnan(min_detectable_effect(0.1, 1)));
  EXPECT_TRUE(std::isnan(min_detectable_effect(0.1, 0)));
  EXPECT_TRUE(std::isnan(min_detectable_effect(std::nan(""), 3)));
  EXPECT_EQ(min_detectable_effect(0.0, 3), 0.0);
  EXPECT_THROW(min_detectable_effect(1, 3, {0.0, 0.8}), Error);
  EXPECT_THROW(min_detectable_effect(1, 3, {0.05, 1.0}), Error);
}

TEST(SeedsNeeded, SmallestSufficientCount) {
  using K = SeedsNeeded::Kind;
  const struct {
    double delta, s;
    int64_t seeds;  // reference: MDE(seeds - 1) > |Δ| >= MDE(seeds)
  } cases[] = {
      {-0.1, 0.02, 3},    // MDE(2) = 0.1992, MDE(3) = 0.0619: the fixture's Δ
      {0.01, 0.02, 34},   // MDE(33) = 0.010061, MDE(34) = 0.009903
      {0.5, 1.0, 34},     // the same ratio |Δ|/s
      {0.2, 1.0, 199},    // MDE(198) = 0.200091, MDE(199) = 0.199583
      {0.3, 0.02, 2},     // already detectable with two seeds
  };
  for (const auto& c : cases) {
    const SeedsNeeded n = seeds_needed(c.delta, c.s);
    EXPECT_EQ(n.kind, K::kFound) << c.delta << " " << c.s;
    EXPECT_EQ(n.seeds, c.seeds) << c.delta << " " << c.s;
  }
}

TEST(SeedsNeeded, CapAndNotApplicable) {
  using K = SeedsNeeded::Kind;
  EXPECT_EQ(seeds_needed(1e-4, 1.0).kind, K::kAboveCap);  // MDE(10000) = 0.028
  EXPECT_EQ(seeds_needed(0.0279, 1.0).kind, K::kAboveCap);
  EXPECT_EQ(seeds_needed(0.0281, 1.0).seeds, 9943);  // MDE(9942) = 0.02810021, MDE(9943) = 0.02809880
  PowerOptions small;
  small.max_seeds = 100;
  EXPECT_EQ(seeds_needed(0.2, 1.0, small).kind, K::kAboveCap);
  EXPECT_EQ(seeds_needed(0.0, 0.02).kind, K::kNotApplicable);
  EXPECT_EQ(seeds_needed(0.1, 0.0).kind, K::kNotApplicable);
  EXPECT_EQ(seeds_needed(0.1, std::nan("")).kind, K::kNotApplicable);
}

TEST(SeedPower, OfAPairedDifference) {
  // The report fixture's Δ: pairs {−0.1, −0.12, −0.08}.
  const SeedPower p = seed_power(paired_difference({0.9, 0.88, 0.92}, {1.0, 1.0, 1.0}));
  EXPECT_NEAR(p.mde, 0.0619302029489, 1e-9);
  EXPECT_EQ(p.needed.kind, SeedsNeeded::Kind::kFound);
  EXPECT_EQ(p.needed.seeds, 3);
  const SeedPower one = seed_power(paired_difference({0.9}, {1.0}));
  EXPECT_TRUE(std::isnan(one.mde));
  EXPECT_EQ(one.needed.kind, SeedsNeeded::Kind::kNotApplicable);
}

}  // namespace
}  // namespace hcx::metrics
