// Each group at its own best hyperparameters (`hcx report --best-of`): with
// `--best-of train.lr`, every group of the report (e.g. each residual
// variant) is compared at the value of train.lr that gave it the lowest mean
// final val/loss, not at one value shared by all groups.
//
// Rule: within a group, completed runs are split by the values of the
// --best-of keys (several keys are chosen jointly, as one combination). Each
// combination's score is the mean over its runs on the selection seeds of
// the final val/loss (last recorded value, as the report's "val/loss final").
// The lowest score wins; a tie goes to the combination that sorts first
// (value_less, key by key). The group then keeps only the runs at the chosen
// combination whose seed is a report seed. With the same seeds for both
// (the default) the figures of the chosen value are biased low: the
// footnote says so. Pure computation over a ReportInput.
#pragma once

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "hcx/report/input.h"

namespace hcx::report {

struct BestOfOptions {
  std::vector<std::string> keys;          // --best-of; empty: every group at every value (off)
  std::vector<std::string> select_seeds;  // --select-seeds; empty: every seed of the selection
  std::vector<std::string> report_seeds;  // --report-seeds; empty: every seed of the selection
  bool active() const { return !keys.empty(); }
};

// One combination of --best-of values within a group.
struct BestOfCandidate {
  std::vector<std::string> values;  // one per key, in BestOfOptions::keys order
  size_t n = 0;                     // runs scored: completed, on a selection seed, with a final val/loss
  double mean_val = std::nan("");   // mean final val/loss of those runs; NaN when n == 0
};

struct BestOfChoice {
  std::map<std::string, std::string> chosen;  // key -> chosen value
  std::vector<BestOfCandidate> candidates;    // every combination the group has, sorted by value
};

// Throws Error(kBadInput) when --select-seeds or --report-seeds is given
// without --best-of, a --best-of key is one no run has (naming the nearest
// known key), or a listed seed is one no selected run has (listing those there are).
void check_best_of(const ReportInput& in, const BestOfOptions& opt);

// Chooses each group's combination and filters members[g] (indices into
// in.runs) to its runs on the report seeds. `labels[g]` names group g in
// errors. Throws Error(kBadInput) for a group with no scored run on the
// selection seeds, or with no run left at its chosen value on the report seeds.
std::vector<BestOfChoice> choose_best_of(const ReportInput& in, const BestOfOptions& opt,
                                         const std::vector<std::string>& labels,
                                         std::vector<std::vector<size_t>>& members);

// The footnotes stating what was done: the rule, the seeds used for the
// choice and for the figures, and the bias when they overlap. Empty when off.
std::vector<std::string> best_of_footnotes(const BestOfOptions& opt, const std::vector<std::string>& all_seeds);

}  // namespace hcx::report
