// Seed statistics: Student t quantiles against published table values,
// mean ± std, and paired differences with their 95 % interval.
#include "hcx/metrics/stats.h"

#include <cmath>

#include <gtest/gtest.h>

#include "hcx/error.h"

namespace hcx::metrics {
namespace {

TEST(StudentT, QuantilesMatchTables) {
  const struct {
    double p, df, t;
  } cases[] = {
      {0.975, 1, 12.7062047}, {0.975, 2, 4.3026527}, {0.975, 3, 3.1824463}, {0.975, 4, 2.7764451},
      {0.975, 5, 2.5705818},  {0.975, 10, 2.2281389}, {0.975, 30, 2.0422725}, {0.975, 100, 1.9839715},
      {0.975, 1e7, 1.9599640}, {0.95, 1, 6.3137515},  {0.995, 5, 4.0321430},  {0.9, 2, 1.8856181},
      {0.75, 1, 1.0},          {0.5, 7, 0.0},         {0.025, 4, -2.7764451}, {0.05, 1, -6.3137515},
  };
  for (const auto& c : cases) {
    EXPECT_NEAR(student_t_quantile(c.p, c.df), c.t, 1e-6) << "p=" << c.p << " df=" << c.df;
  }
}

TEST(StudentT, CdfInvertsQuantile) {
  EXPECT_DOUBLE_EQ(student_t_cdf(0.0, 3.0), 0.5);
  EXPECT_NEAR(student_t_cdf(1.0, 1.0), 0.75, 1e-12);  // Cauchy: 1/2 + atan(1)/pi
  for (double df : {0.5, 1.0, 2.5, 9.0, 60.0}) {
    for (double p : {0.01, 0.3, 0.9, 0.999}) {
      EXPECT_NEAR(student_t_cdf(student_t_quantile(p, df), df), p, 1e-10) << "df=" << df << " p=" << p;
    }
  }
}

TEST(StudentT, RejectsBadArguments) {
  EXPECT_THROW(student_t_quantile(0.0, 3), Error);
  EXPECT_THROW(student_t_quantile(1.0, 3), Error);
  EXPECT_THROW(student_t_quantile(0.9, 0), Error);
  EXPECT_THROW(student_t_cdf(1.0, -1), Error);
}

TEST(Summarize, MeanAndSampleStd) {
  const Summary s = summarize({2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0});
  EXPECT_EQ(s.n, 8);
  EXPECT_DOUBLE_EQ(s.mean, 5.0);
  EXPECT_NEAR(s.std, std::sqrt(32.0 / 7.0), 1e-12);
  EXPECT_TRUE(std::isnan(summarize({}).mean));
  const Summary one = summarize({3.5});
  EXPECT_EQ(one.n, 1);
  EXPECT_DOUBLE_EQ(one.mean, 3.5);
  EXPECT_TRUE(std::isnan(one.std));
}

TEST(PairedDifference, MeanAndInterval) {
  // d = {-0.1, -0.2, -0.06}: mean -0.12, std sqrt(0.0104 / 2) = 0.0721110...
  const PairedDifference d = paired_difference({2.0, 2.2, 2.09}, {2.1, 2.4, 2.15});
  EXPECT_EQ(d.n, 3);
  EXPECT_NEAR(d.mean, -0.12, 1e-12);
  EXPECT_NEAR(d.std, std::sqrt(0.0104 / 2), 1e-12);
  const double half = 4.3026527 * std::sqrt(0.0104 / 2) / std::sqrt(3.0);  // 0.179134...
  EXPECT_NEAR(d.ci_low, -0.12 - half, 1e-6);
  EXPECT_NEAR(d.ci_high, -0.12 + half, 1e-6);
  EXPECT_TRUE(d.contains_zero());  // -0.299 .. +0.059

  const PairedDifference sure = paired_difference({1.0, 1.1, 1.2}, {1.2, 1.3, 1.4});  // d = -0.2 each
  EXPECT_NEAR(sure.mean, -0.2, 1e-12);
  EXPECT_NEAR(sure.ci_low, -0.2, 1e-9);
  EXPECT_FALSE(sure.contains_zero());
}

TEST(PairedDifference, OnePairHasNoInterval) {
  const PairedDifference d = paired_difference({1.0}, {1.5});
  EXPECT_EQ(d.n, 1);
  EXPECT_DOUBLE_EQ(d.mean, -0.5);
  EXPECT_TRUE(std::isnan(d.ci_low));
  EXPECT_TRUE(d.contains_zero());
  EXPECT_THROW(paired_difference({1.0, 2.0}, {1.0}), Error);
}

}  // namespace
}  // namespace hcx::metrics
