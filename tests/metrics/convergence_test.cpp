// EMA smoothing and the convergence speed-up (docs/method.md, "Convergence speed-up"), on curves whose
// answers are worked out by hand.
#include "hcx/metrics/convergence.h"

#include <gtest/gtest.h>

#include "hcx/error.h"

namespace hcx::metrics {
namespace {

TEST(Ema, StartsAtTheFirstValue) {
  const std::vector<double> s = ema({4.0, 2.0, 2.0, 8.0}, 0.5);
  EXPECT_EQ(s, (std::vector<double>{4.0, 3.0, 2.5, 5.25}));
  EXPECT_EQ(ema({1.0, 5.0}, 1.0), (std::vector<double>{1.0, 5.0}));
  EXPECT_TRUE(ema({}, 0.3).empty());
  EXPECT_THROW(ema({1.0}, 0.0), Error);
  EXPECT_THROW(ema({1.0}, 1.5), Error);
}

TEST(TokensToReach, InterpolatesBetweenEvaluations) {
  const TokenCurve c{{100, 200, 300, 400}, {4.0, 3.0, 2.0, 1.0}};
  EXPECT_DOUBLE_EQ(*tokens_to_reach(c, 2.5), 250.0);
  EXPECT_DOUBLE_EQ(*tokens_to_reach(c, 3.0), 200.0);
  EXPECT_DOUBLE_EQ(*tokens_to_reach(c, 5.0), 100.0);  // already there at the first evaluation
  EXPECT_FALSE(tokens_to_reach(c, 0.5));
  EXPECT_FALSE(tokens_to_reach(TokenCurve{}, 1.0));
}

TEST(ConvergenceSpeedup, VariantReachesTheBaselineFinalLossSooner) {
  // Unsmoothed (alpha 1): the baseline ends at 2.0 after 400 tokens; the
  // variant passes 2.0 halfway between 200 (2.5) and 300 (1.5): 250 tokens.
  const TokenCurve base{{100, 200, 300, 400}, {4.0, 3.0, 2.5, 2.0}};
  const TokenCurve variant{{100, 200, 300, 400}, {3.5, 2.5, 1.5, 1.2}};
  const Speedup s = convergence_speedup(base, variant, 1.0);
  EXPECT_DOUBLE_EQ(s.target, 2.0);
  EXPECT_DOUBLE_EQ(s.baseline_tokens, 400.0);
  EXPECT_DOUBLE_EQ(*s.variant_tokens, 250.0);
  EXPECT_DOUBLE_EQ(*s.speedup, 1.6);
}

TEST(ConvergenceSpeedup, SmoothsBothCurves) {
  // alpha 0.5: baseline {4, 3, 2.5, 2} -> {4, 3.5, 3, 2.5}; target 2.5.
  // variant {4, 2, 2, 2} -> {4, 3, 2.5, 2.25}: reaches 2.5 at 300 tokens.
  const TokenCurve base{{100, 200, 300, 400}, {4.0, 3.0, 2.5, 2.0}};
  const TokenCurve variant{{100, 200, 300, 400}, {4.0, 2.0, 2.0, 2.0}};
  const Speedup s = convergence_speedup(base, variant, 0.5);
  EXPECT_DOUBLE_EQ(s.alpha, 0.5);
  EXPECT_DOUBLE_EQ(s.target, 2.5);
  EXPECT_DOUBLE_EQ(*s.variant_tokens, 300.0);
  EXPECT_DOUBLE_EQ(*s.speedup, 400.0 / 300.0);
}

TEST(ConvergenceSpeedup, NotReachedAndBaselineDippingEarly) {
  const TokenCurve base{{10, 20, 30, 40}, {3.0, 1.0, 2.0, 2.0}};  // dips below its final value at 20
  const TokenCurve worse{{10, 20, 30, 40}, {3.0, 2.8, 2.6, 2.4}};
  const Speedup s = convergence_speedup(base, worse, 1.0);
  EXPECT_DOUBLE_EQ(s.baseline_tokens, 15.0);  // 3.0 -> 1.0 crosses 2.0 halfway
  EXPECT_FALSE(s.variant_tokens);
  EXPECT_FALSE(s.speedup);
  EXPECT_THROW(convergence_speedup(TokenCurve{}, worse, 1.0), Error);
  EXPECT_THROW(convergence_speedup(TokenCurve{{2, 1}, {1, 1}}, worse, 1.0), Error);
}

}  // namespace
}  // namespace hcx::metrics
