// The comparison `hcx report` shows: runs grouped by the config keys
// that vary, each group's figures as mean ± std over seeds, and against the
// baseline the paired Δ with a 95 % confidence interval and the convergence
// speed-up (docs/method.md, "Convergence speed-up"). Pure computation over a ReportInput.
//
// Definitions (stated in every rendering too):
//  - Statistics use completed runs only; any other run, and any seed the
//    selection has but a group lacks, is listed as missing with its status.
//  - A run's final/best value of a curve is its last/minimum value. Curves
//    named train/* are first smoothed with EMA alpha kTrainAlpha (per-step
//    minibatch losses are noisy); others (validation) are used as recorded.
//  - Tokens at a step = step × train.batch_size × model.seq_len ×
//    train.grad_accum (run_params); runs without those keys use runs.tokens /
//    runs.step.
//  - Δ = mean over pairs of (group − baseline) final headline metric, pairing
//    runs that agree on every varying key outside the grouping (the seed, by
//    default); 95 % CI from Student's t with n − 1 degrees of freedom.
//  - Power (metrics/power.h): with s the std of those paired differences,
//    MDE = (t_{0.975, n−1} + t_{0.8, n−1}) · s / √n, the smallest |Δ| the n
//    seeds detect at α = 0.05 two-sided with power 0.8, and the seeds n'
//    for which the same formula reaches the observed |Δ| (capped at 10000).
//  - Speed-up: on the seed-mean headline curves (steps common to all runs),
//    EMA-smoothed (kValAlpha, or kTrainAlpha for train/*), see
//    metrics/convergence.h. Also per pair of runs.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hcx/metrics/convergence.h"
#include "hcx/metrics/power.h"
#include "hcx/metrics/stats.h"
#include "hcx/report/best_of.h"
#include "hcx/report/collapse.h"
#include "hcx/report/input.h"

namespace hcx::report {

constexpr double kTrainAlpha = 0.05;  // EMA of per-step training curves: ~20-step memory
constexpr double kValAlpha = 0.5;     // EMA of evaluation curves: ~1 evaluation of lag

struct ReportOptions {
  std::vector<std::string> group_by;  // empty: every varying key except seed
  std::pair<std::string, std::string> baseline{"residual.kind", "pre_norm"};
  std::string metric = "val/loss";    // headline curve (lower is better)
  BestOfOptions best_of;              // --best-of, --select-seeds, --report-seeds (best_of.h)
  bool include_collapsed = false;     // --include-collapsed: rank collapsed groups too (collapse.h)
};

// One run as the report sees it.
struct RunRef {
  size_t index = 0;       // into ReportInput::runs
  std::string id, seed, status, unit;  // unit: the pairing key, e.g. "seed=1"
};

struct MissingSeed {
  std::string seed;
  std::string status;  // "absent" when the group has no run with that seed
  std::string run_id;  // "" when absent
};

struct SpeedupResult {
  metrics::Speedup group;  // on the seed-mean curves
  std::vector<std::pair<std::string, std::optional<double>>> per_pair;  // unit -> speed-up (nullopt: not reached)
};

struct GroupResult {
  std::string label;                          // "kind=hc, n=4": the first grouping key, then those that vary with it
  std::map<std::string, std::string> key;     // group-by key -> value
  bool is_baseline = false;
  std::optional<size_t> baseline_group;       // index into Report::groups; nullopt: none found
  std::vector<RunRef> runs;                   // completed runs used for statistics
  std::vector<RunRef> running;                // runs still training (status running): their partial
                                              // curves are drawn (html.h), never used in a statistic
  std::vector<MissingSeed> missing;
  metrics::Summary final_metric, best_metric;  // headline metric
  metrics::Summary final_val, best_val;        // val/loss
  metrics::Summary final_train, best_train;    // train/loss, EMA kTrainAlpha
  std::optional<metrics::PairedDifference> delta;  // headline final vs baseline
  std::optional<metrics::SeedPower> power;         // of `delta` (set with it)
  std::optional<SpeedupResult> speedup;
  metrics::Summary loss_spikes, grad_norm_spikes;  // spikes per run (run_summary count, else spike rows)
  std::map<std::string, metrics::Summary> downstream;  // "task/metric" at each run's last eval step
  metrics::Summary tokens_per_s, params;
  std::optional<size_t> sample_run;            // a run shown in detail (lowest seed); index into input
  std::optional<BestOfChoice> best_of;         // with --best-of: the values this group is shown at
  std::optional<GroupCollapse> collapse;       // runs of this group that did not train
};

struct Report {
  std::string sweep;
  ReportOptions options;
  std::vector<std::string> group_by;        // keys actually used
  std::vector<std::string> pair_keys;       // varying keys outside the grouping (pairing)
  std::vector<std::string> seeds;           // every seed of the selection, sorted
  std::vector<GroupResult> groups;          // baseline groups first, then in grid order
  std::vector<std::string> downstream_keys; // union of "task/metric", sorted
  std::string spike_rule;                   // e.g. "> 6σ above the mean of the previous 50 values"
  std::vector<std::string> notes;           // warnings for the reader (no baseline found, ...)
  size_t total_runs = 0;
  std::vector<size_t> ranking;              // groups by mean final headline metric, lowest first;
                                            // collapsed groups left out unless include_collapsed
  std::vector<std::string> all_seeds;       // every seed of the input (seeds: the reported ones)
};

// Computes the report. Throws Error(kBadInput) when the selection is empty,
// a --group-by key is unknown (naming the nearest known key), or no run has
// the headline metric (listing the metrics there are); with --best-of, for
// the errors of check_best_of and choose_best_of (best_of.h), and when a
// --best-of key is also a --group-by key.
Report compute_report(const ReportInput& input, const ReportOptions& options);

// Tokens per optimizer step of a run (see the definitions above); 0 when unknown.
double tokens_per_step(const RunData& run);

// EMA alpha used for a curve: kTrainAlpha for train/*, else kValAlpha.
double smoothing_alpha(const std::string& metric);

// Mean of several runs' curves at the steps all of them recorded.
Curve mean_curve(const std::vector<const Curve*>& curves);

}  // namespace hcx::report
