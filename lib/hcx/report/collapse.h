// Runs that did not train (collapse detection): a collapsed run's figures
// measure a failure, not the variant, so its group is named under the table
// and kept out of the ranking and the best/worst claims.
//
// A completed run has collapsed when any of these holds (checked in order,
// the first one found is the reason given):
//  1. Uniform entropy: its final train loss (EMA kTrainAlpha, the report's
//     "train loss final") is at or above ln(model.vocab_size), the loss of
//     predicting every token with equal probability. Skipped without
//     model.vocab_size.
//  2. No progress after warmup: on the train/loss curve from the first step
//     at or after train.warmup_steps, EMA kTrainAlpha restarted there, the
//     last value is not below the first (the raw loss right after warmup)
//     by more than 1e-9 of it (rounding).
//     Skipped without train.warmup_steps or with fewer than 2 such steps.
//  3. Vanishing lower-layer gradients: at the last step with layer_stats,
//     the grad_norm of the lowest sublayer is below kGradRatio × that of the
//     highest. Skipped without grad_norm rows for 2 sublayers or more.
// A group has collapsed when one or more of its completed runs has.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "hcx/report/input.h"

namespace hcx::report {

constexpr double kGradRatio = 1e-3;  // rule 3: lowest / highest sublayer grad norm

struct RunCollapse {
  std::string run_id;
  std::string reason;  // "final train loss 4.1700 ≥ ln 64 = 4.1589"
};

struct GroupCollapse {
  std::vector<RunCollapse> runs;  // the collapsed runs, in the group's order
  size_t of = 0;                  // completed runs in the group
};

// The first rule that holds for `run`, as a phrase; nullopt when it trained.
std::optional<std::string> collapse_reason(const RunData& run);

// The collapsed runs among `indices` (into in.runs); nullopt when none.
std::optional<GroupCollapse> group_collapse(const ReportInput& in, const std::vector<size_t>& indices);

// "Pre-Norm collapsed at lr=0.003: final train loss 4.1700 ≥ ln 64 = 4.1589
// (run pn-1; 2 of 3 runs)." `at` is the chosen --best-of value ("lr=0.003")
// or "" when there is none.
std::string collapse_text(const std::string& label, const std::string& at, const GroupCollapse& c);

}  // namespace hcx::report
