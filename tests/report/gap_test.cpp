// The gap over training on the known sweep (fixture.h): hc − pre_norm
// val/loss at steps 100..400 is {4−4, 2−3, 2−2.5, 2−2} + the per-seed offsets
// {−.1, −.12, −.08} (mean −0.1, std 0.02), so Δ = {−0.1, −1.1, −0.6, −0.1}
// with the same 95% half-width t_{0.975,2} · 0.02/√3 = 0.0496827 everywhere;
// tokens = 16 per step.
#include "hcx/report/gap.h"

#include <cmath>

#include <gtest/gtest.h>

#include "report/fixture.h"

namespace hcx::report {
namespace {

// t_{0.975, 2} in closed form: (2p − 1)/√(2p(1 − p)).
const double kHalf = 0.95 / std::sqrt(2 * 0.975 * 0.025) * 0.02 / std::sqrt(3.0);

TEST(GapSeries, KnownSweepDeltaAndBandAtEveryEvaluation) {
  const ReportInput in = fixture::known_input();
  const Report rep = compute_report(in, ReportOptions{});
  const auto gaps = gap_series(rep, in);
  ASSERT_EQ(gaps.size(), 1u);  // the baseline gets no series
  EXPECT_EQ(gaps[0].group, 1u);
  const struct {
    int64_t step;
    double tokens, mean;
  } want[] = {{100, 1600, -0.1}, {200, 3200, -1.1}, {300, 4800, -0.6}, {400, 6400, -0.1}};
  ASSERT_EQ(gaps[0].points.size(), 4u);
  EXPECT_NEAR(kHalf, 0.0496827, 1e-7);
  for (size_t i = 0; i < 4; ++i) {
    const GapPoint& p = gaps[0].points[i];
    EXPECT_EQ(p.step, want[i].step);
    EXPECT_DOUBLE_EQ(p.tokens, want[i].tokens);
    EXPECT_EQ(p.delta.n, 3);
    EXPECT_NEAR(p.delta.mean, want[i].mean, 1e-12) << p.step;
    EXPECT_NEAR(p.delta.std, 0.02, 1e-12) << p.step;
    EXPECT_NEAR(p.delta.ci_low, want[i].mean - kHalf, 1e-9) << p.step;
    EXPECT_NEAR(p.delta.ci_high, want[i].mean + kHalf, 1e-9) << p.step;
  }
  // The last point is the table's Δ.
  const auto& last = gaps[0].points.back().delta;
  EXPECT_NEAR(last.mean, rep.groups[1].delta->mean, 1e-15);
  EXPECT_NEAR(last.ci_low, rep.groups[1].delta->ci_low, 1e-15);
}

TEST(GapSeries, StepsMissingInARunUseTheRemainingPairs) {
  ReportInput in = fixture::known_input();
  // hc seed 2 lacks step 200 (NaN) and pre_norm seed 1 lacks step 300 (absent).
  in.runs[5].curves["val/loss"].values[1] = std::nan("");
  auto& c = in.runs[1].curves["val/loss"];
  c.steps.erase(c.steps.begin() + 2);
  c.values.erase(c.values.begin() + 2);
  const Report rep = compute_report(in, ReportOptions{});
  const auto gaps = gap_series(rep, in);
  ASSERT_EQ(gaps.size(), 1u);
  ASSERT_EQ(gaps[0].points.size(), 4u);
  // Step 200: pairs of seeds 0, 1: {−1.1, −1.12} → mean −1.11, std 0.01·√2.
  const GapPoint& p200 = gaps[0].points[1];
  EXPECT_EQ(p200.delta.n, 2);
  EXPECT_NEAR(p200.delta.mean, -1.11, 1e-12);
  EXPECT_NEAR(p200.delta.std, 0.01 * std::sqrt(2.0), 1e-12);
  // t_{0.975,1} = tan(0.475π): half-width 12.7062 · 0.01·√2/√2.
  EXPECT_NEAR(p200.delta.ci_high - p200.delta.mean, std::tan(0.475 * 3.14159265358979323846) * 0.01, 1e-9);
  // Step 300: seeds 0, 2: {−0.6, −0.58}.
  EXPECT_EQ(gaps[0].points[2].delta.n, 2);
  EXPECT_NEAR(gaps[0].points[2].delta.mean, -0.59, 1e-12);
  EXPECT_EQ(gaps[0].points[3].delta.n, 3);
}

TEST(GapSeries, NoBaselineNoSeries) {
  const ReportInput in = fixture::known_input();
  ReportOptions o;
  o.baseline = {"residual.kind", "post_norm"};  // no such group
  const Report rep = compute_report(in, o);
  EXPECT_TRUE(gap_series(rep, in).empty());
  const LineChart c = gap_chart(rep, in);
  EXPECT_TRUE(c.series.empty());
  EXPECT_NE(render_line_chart(c).find("no data"), std::string::npos);
}

TEST(GapChart, SeriesBandAndZeroLine) {
  const ReportInput in = fixture::known_input();
  const LineChart c = gap_chart(compute_report(in, ReportOptions{}), in);
  EXPECT_EQ(c.id, "chart-gap");
  ASSERT_TRUE(c.ref_y);
  EXPECT_EQ(*c.ref_y, 0.0);
  EXPECT_EQ(c.y_label, "\u0394 val/loss");
  ASSERT_EQ(c.series.size(), 1u);
  const Series& s = c.series[0];
  EXPECT_EQ(s.name, "DHC\u00d72");
  EXPECT_EQ(s.color, palette(1));  // as in the loss charts
  ASSERT_EQ(s.line.size(), 4u);
  ASSERT_EQ(s.band_low.size(), 4u);
  EXPECT_DOUBLE_EQ(s.line[1].x, 3200);
  EXPECT_NEAR(s.line[1].y, -1.1, 1e-12);
  EXPECT_NEAR(s.band_low[1].y, -1.1 - kHalf, 1e-9);
  EXPECT_NEAR(s.band_high[1].y, -1.1 + kHalf, 1e-9);
  const std::string svg = render_line_chart(c);
  EXPECT_NE(svg.find("<line class=\"ref\""), std::string::npos);
  EXPECT_NE(svg.find("<path class=\"band\" fill=\"#D55E00\""), std::string::npos);
  EXPECT_NE(svg.find("<polyline class=\"line\" stroke=\"#D55E00\""), std::string::npos);
}

}  // namespace
}  // namespace hcx::report
