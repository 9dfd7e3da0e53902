// Number formatting of the renderers: signs, missing values, SI prefixes.
#include "hcx/report/table.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace hcx::report {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(Format, FixedAndSigned) {
  EXPECT_EQ(fmt_fixed(2.34567, 4), "2.3457");
  EXPECT_EQ(fmt_fixed(-0.5, 2), "\u22120.50");
  EXPECT_EQ(fmt_fixed(-0.00001, 4), "0.0000");  // no negative zero
  EXPECT_EQ(fmt_fixed(kNaN, 4), "\u2014");
  EXPECT_EQ(fmt_signed(0.0123, 4), "+0.0123");
  EXPECT_EQ(fmt_signed(-0.0123, 4), "\u22120.0123");
  EXPECT_EQ(fmt_signed(1e-9, 4), "0.0000");  // rounds to zero: no sign
}

TEST(Format, MeanStdAndSi) {
  EXPECT_EQ(fmt_mean_std({3, 2.0, 0.1}, 4), "2.0000 \u00b1 0.1000");
  EXPECT_EQ(fmt_mean_std({1, 2.0, kNaN}, 4), "2.0000");
  EXPECT_EQ(fmt_mean_std({0, kNaN, kNaN}, 4), "\u2014");
  EXPECT_EQ(fmt_si(800), "800");
  EXPECT_EQ(fmt_si(1234), "1.23k");
  EXPECT_EQ(fmt_si(2.5e6), "2.50M");
  EXPECT_EQ(fmt_si(7.1e9), "7.10G");
}

TEST(Format, Delta) {
  metrics::PairedDifference d;
  d.n = 3;
  d.mean = -0.1;
  d.ci_low = -0.15;
  d.ci_high = -0.05;
  EXPECT_EQ(fmt_delta(d, 3), "\u22120.100 [\u22120.150, \u22120.050]");
  d.n = 1;
  d.ci_low = d.ci_high = kNaN;
  EXPECT_EQ(fmt_delta(d, 3), "\u22120.100 (n=1)");
}

TEST(ReportTables, HeadlineMetricAddsValidationColumns) {
  // Minimal input: one group, train/loss headline.
  ReportInput in;
  RunData r;
  r.id = "a";
  r.status = RunStatus::kCompleted;
  r.params = {{"seed", "0"}};
  r.curves["train/loss"] = {{1, 2}, {2.0, 1.0}};
  r.curves["val/loss"] = {{2}, {1.5}};
  in.runs.push_back(r);
  ReportOptions o;
  o.metric = "train/loss";
  const auto tables = report_tables(compute_report(in, o));
  ASSERT_EQ(tables.size(), 1u);  // no downstream scores, no downstream table
  EXPECT_EQ(tables[0].header[2], "train/loss final");
  EXPECT_EQ(tables[0].header[8], "val/loss final");  // after Δ, MDE, seeds for Δ, speed-up
  EXPECT_EQ(tables[0].rows[0][0].text, "all runs");
  EXPECT_EQ(tables[0].rows[0][2].text, "1.9500");  // EMA 0.05: {2, 1.95}
  EXPECT_EQ(tables[0].rows[0][4].text, "\u2014");  // no baseline group: no Δ
  EXPECT_EQ(tables[0].rows[0][5].text, "\u2014");  // ... so no MDE
  EXPECT_EQ(tables[0].rows[0][6].text, "\u2014");  // ... and no seeds for Δ
}

}  // namespace
}  // namespace hcx::report
