// The gap over training (the HTML report's "Gap to the baseline"): at each evaluation step, the
// paired Δ of a curve between a group and its baseline, with its t interval,
// so one sees whether a final Δ opened early, late, or is closing again.
//
// Definitions:
//  - Pairs are the runs the final Δ pairs (compute.h: same unit, i.e. the
//    same values of every pairing key, the seed by default).
//  - At each step where both runs of at least one pair recorded a finite
//    value, Δ = mean over those pairs of (group − baseline), values as
//    recorded (no smoothing: validation curves are already averages), with the
//    95 % interval mean ± t_{0.975, n−1} · s / √n (metrics::paired_difference).
//    n may differ between steps when a run lacks an evaluation; n = 1 has no
//    interval.
//  - tokens = step × the mean tokens per step (compute.h) of the group's
//    paired runs.
// For the headline val/loss, the last point is the table's Δ whenever every
// pair's last evaluation is at the same step.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hcx/metrics/stats.h"
#include "hcx/report/compute.h"
#include "hcx/report/input.h"
#include "hcx/report/svg.h"

namespace hcx::report {

struct GapPoint {
  int64_t step = 0;
  double tokens = 0;
  metrics::PairedDifference delta;  // over the pairs that have this step
};

struct GapSeries {
  size_t group = 0;  // index into Report::groups (never a baseline group)
  std::vector<GapPoint> points;  // steps ascending
};

// One series per group that has a baseline other than itself and at least one
// pair with a common step of `metric`, in the report's group order. `report`
// must have been computed from `input`.
std::vector<GapSeries> gap_series(const Report& report, const ReportInput& input,
                                  const std::string& metric = "val/loss");

// The chart of gap_series (id "chart-gap"): Δ over tokens per group, its
// interval as a band, and a dashed line at Δ = 0. Colours match the other
// charts (palette(group index)).
LineChart gap_chart(const Report& report, const ReportInput& input, const std::string& metric = "val/loss");

}  // namespace hcx::report
