// Spike detector: case table (flat -> none, injected jumps -> exactly those
// steps), the stored row's figures, resume from state, and numeric stability.
#include "hcx/metrics/spike_detector.h"

#include <cmath>
#include <limits>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "hcx/error.h"

namespace hcx::metrics {
namespace {

using Curve = std::vector<std::pair<int64_t, double>>;

// 1.0, 1.1, 1.0, 1.1, ...: mean 1.05 and population std 0.05 over any even window.
Curve alternating(int64_t n) {
  Curve c;
  for (int64_t s = 0; s < n; ++s) c.push_back({s, s % 2 ? 1.1 : 1.0});
  return c;
}

Curve with_values(Curve c, const std::vector<std::pair<int64_t, double>>& set) {
  for (const auto& [step, v] : set) c[static_cast<size_t>(step)].second = v;
  return c;
}

std::set<int64_t> spike_steps(const Curve& c, int64_t window = 50, double sigma = 6.0) {
  std::set<int64_t> steps;
  for (const Spike& s : detect_spikes(c, window, sigma)) steps.insert(s.step);
  return steps;
}

TEST(SpikeDetector, CaseTable) {
  Curve flat;
  for (int64_t s = 0; s < 300; ++s) flat.push_back({s, 2.5});
  Curve falling;  // a smooth training curve: always below its window mean
  for (int64_t s = 0; s < 300; ++s) falling.push_back({s, 3.0 * std::exp(-s / 80.0) + 1.0});
  Curve shift = alternating(300);
  for (int64_t s = 100; s < 300; ++s) shift[static_cast<size_t>(s)].second += 5.0;

  const struct {
    const char* name;
    Curve curve;
    std::set<int64_t> expected;
  } cases[] = {
      {"flat series", flat, {}},
      {"flat series with one jump", with_values(flat, {{120, 2.6}}), {120}},
      {"alternating noise", alternating(300), {}},
      {"falling curve", falling, {}},
      {"injected jumps", with_values(alternating(300), {{80, 2.0}, {150, 3.0}, {260, 1.5}}), {80, 150, 260}},
      {"jump at the first judged step", with_values(alternating(300), {{50, 2.0}}), {50}},
      {"jumps before a full window are not judged", with_values(alternating(300), {{10, 9.0}, {49, 9.0}}), {}},
      {"two jumps 10 steps apart", with_values(alternating(300), {{100, 6.0}, {110, 9.0}}), {100, 110}},
      {"drops are not spikes", with_values(alternating(300), {{100, -5.0}, {200, 0.0}}), {}},
      {"a jump just under 6 sigma", with_values(alternating(300), {{101, 1.05 + 5.9 * 0.05}}), {}},
      {"a jump just over 6 sigma", with_values(alternating(300), {{101, 1.05 + 6.1 * 0.05}}), {101}},
      {"a lasting level shift counts twice", shift, {100, 101}},
  };
  for (const auto& c : cases) EXPECT_EQ(spike_steps(c.curve), c.expected) << c.name;
}

TEST(SpikeDetector, RowHoldsWindowMeanStdAndScore) {
  SpikeDetector d(50, 6.0);
  for (const auto& [step, v] : alternating(100)) ASSERT_FALSE(d.observe(step, v));
  const auto spike = d.observe(100, 2.0);
  ASSERT_TRUE(spike);
  EXPECT_EQ(spike->step, 100);
  EXPECT_DOUBLE_EQ(spike->value, 2.0);
  EXPECT_NEAR(spike->mean, 1.05, 1e-12);
  EXPECT_NEAR(spike->std, 0.05, 1e-12);
  EXPECT_NEAR(spike->score, 19.0, 1e-9);
  EXPECT_EQ(d.count(), 1);
  EXPECT_EQ(d.observed(), 101);
  EXPECT_DOUBLE_EQ(d.spike_score(), 1.0 / 101.0);
}

TEST(SpikeDetector, SmallerSigmaAndWindowFindMore) {
  // A jump of 4 sigma: below the default threshold, above sigma = 3.
  const Curve c = with_values(alternating(200), {{120, 1.05 + 4 * 0.05}});
  EXPECT_EQ(spike_steps(c, 50, 6.0), std::set<int64_t>{});
  EXPECT_EQ(spike_steps(c, 50, 3.0), std::set<int64_t>{120});
  EXPECT_EQ(spike_steps(with_values(alternating(200), {{4, 9.0}}), 4, 6.0), std::set<int64_t>{4});
}

TEST(SpikeDetector, IgnoresNonFiniteValues) {
  SpikeDetector d(10, 6.0);
  for (const auto& [step, v] : alternating(30)) d.observe(step, v);
  EXPECT_FALSE(d.observe(30, std::numeric_limits<double>::quiet_NaN()));
  EXPECT_FALSE(d.observe(31, std::numeric_limits<double>::infinity()));
  EXPECT_EQ(d.observed(), 30);
  const auto s = d.observe(32, 2.0);  // the window is untouched by the NaN and inf
  ASSERT_TRUE(s);
  EXPECT_NEAR(s->mean, 1.05, 1e-12);
}

TEST(SpikeDetector, ResumesFromStateExactly) {
  const Curve c = with_values(alternating(400), {{90, 2.0}, {130, 3.0}, {333, 2.5}});
  const std::vector<Spike> whole = detect_spikes(c, 50, 6.0);
  for (size_t cut : {0u, 20u, 50u, 125u, 399u}) {
    SpikeDetector first(50, 6.0);
    std::vector<Spike> found;
    for (size_t i = 0; i < cut; ++i) {
      if (auto s = first.observe(c[i].first, c[i].second)) found.push_back(*s);
    }
    SpikeDetector second(50, 6.0, first.state());
    for (size_t i = cut; i < c.size(); ++i) {
      if (auto s = second.observe(c[i].first, c[i].second)) found.push_back(*s);
    }
    ASSERT_EQ(found.size(), whole.size()) << "cut at " << cut;
    for (size_t i = 0; i < found.size(); ++i) {
      EXPECT_EQ(found[i].step, whole[i].step);
      EXPECT_NEAR(found[i].score, whole[i].score, 1e-9);
    }
    EXPECT_EQ(second.count(), 3);
    EXPECT_EQ(second.observed(), 400);
  }
}

TEST(SpikeDetector, RunningSumsDoNotDrift) {
  // A large offset with small noise: naive sum-of-squares would cancel.
  SpikeDetector d(64, 6.0);
  uint64_t x = 12345;
  std::vector<double> values;
  for (int64_t s = 0; s < 200000; ++s) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    values.push_back(1e6 + static_cast<double>(x >> 40) / static_cast<double>(1ULL << 24) * 1e-3);
    d.observe(s, values.back());
  }
  double mean = 0, sq = 0;
  for (size_t i = values.size() - 64; i < values.size(); ++i) mean += values[i] / 64;
  for (size_t i = values.size() - 64; i < values.size(); ++i) sq += (values[i] - mean) * (values[i] - mean) / 64;
  const double big = mean + 6.5 * std::sqrt(sq);  // just above 6 sigma of the current window
  const auto s = d.observe(200000, big);
  ASSERT_TRUE(s);
  EXPECT_NEAR(s->std, std::sqrt(sq), 1e-6 * std::sqrt(sq));
  EXPECT_NEAR(s->score, 6.5, 1e-4);
}

TEST(SpikeDetector, RejectsBadParameters) {
  EXPECT_THROW(SpikeDetector(1, 6.0), Error);
  EXPECT_THROW(SpikeDetector(50, 0.0), Error);
  EXPECT_THROW(SpikeDetector(50, -1.0), Error);
  EXPECT_THROW(SpikeDetector(50, std::numeric_limits<double>::quiet_NaN()), Error);
  SpikeDetector::State too_big;
  too_big.recent.assign(11, 1.0);
  EXPECT_THROW(SpikeDetector(10, 6.0, too_big), Error);
}

TEST(SpikeDetector, SummaryRows) {
  SpikeDetector d(50, 6.0);
  for (const auto& [step, v] : with_values(alternating(100), {{70, 5.0}})) d.observe(step, v);
  const auto rows = spike_summary("train/grad_norm", d);
  const std::vector<std::pair<std::string, double>> expected = {
      {"spikes/train/grad_norm/count", 1.0},     {"spikes/train/grad_norm/score", 0.01},
      {"spikes/train/grad_norm/observed", 100.0}, {"spikes/window", 50.0},
      {"spikes/sigma", 6.0}};
  EXPECT_EQ(rows, expected);
}

}  // namespace
}  // namespace hcx::metrics
