// The report as JSON: every figure unrounded, every definition stated, for
// scripts and notebooks (`hcx report --format json`).
#pragma once

#include <ostream>

#include <nlohmann/json.hpp>

#include "hcx/report/compute.h"

namespace hcx::report {

// Layout (numbers that do not exist are null):
// {"sweep", "metric", "baseline": {"key", "value"}, "group_by": [...],
//  "pair_keys": [...], "seeds": [...], "runs": N,
//  "definitions": {"train_ema_alpha", "metric_ema_alpha", "ci_level", "tokens_per_step", "spike_rule"},
//  "groups": [{"label", "key": {...}, "is_baseline", "baseline": label|null,
//              "runs": [{"id", "seed", "unit"}], "n", "missing": [{"seed", "status", "run_id"}],
//              "metric_final"|"metric_best"|"val_loss_final"|"val_loss_best"|
//              "train_loss_final"|"train_loss_best"|"loss_spikes"|"grad_norm_spikes"|
//              "tokens_per_s"|"params": {"n", "mean", "std"},
//              "delta": {"n", "mean", "std", "ci_low", "ci_high", "level", "contains_zero"} | null,
//              "speedup": {"value", "reached", "target", "baseline_tokens", "tokens", "alpha",
//                          "per_pair": [{"unit", "value"}]} | null,
//              "downstream": {"task/metric": {"n", "mean", "std"}}}],
//  "footnotes": [...]}
nlohmann::json to_json(const Report& report);

// to_json(report) indented by 2, with a final newline.
void render_json(const Report& report, std::ostream& out);

}  // namespace hcx::report
