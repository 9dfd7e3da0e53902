// Detecting runs that did not train (see collapse.h).
#include "hcx/report/collapse.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "hcx/metrics/convergence.h"
#include "hcx/report/compute.h"
#include "hcx/report/table.h"

namespace hcx::report {
namespace {

std::optional<double> param_number(const RunData& r, const std::string& key) {
  const auto it = r.params.find(key);
  if (it == r.params.end() || it->second.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(it->second.c_str(), &end);
  if (end != it->second.c_str() + it->second.size()) return std::nullopt;
  return v;
}

std::string short_number(double v) {  // 1e-05, 0.5, 64
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

// The finite points of train/loss at steps >= from.
std::vector<double> train_values(const RunData& r, int64_t from) {
  std::vector<double> out;
  const auto it = r.curves.find("train/loss");
  if (it == r.curves.end()) return out;
  const Curve& c = it->second;
  for (size_t i = 0; i < c.steps.size(); ++i) {
    if (c.steps[i] >= from && std::isfinite(c.values[i])) out.push_back(c.values[i]);
  }
  return out;
}

std::optional<std::string> uniform_entropy(const RunData& r) {
  const auto vocab = param_number(r, "model.vocab_size");
  const std::vector<double> v = train_values(r, INT64_MIN);
  if (!vocab || *vocab < 2 || v.empty()) return std::nullopt;
  const double final = metrics::ema(v, kTrainAlpha).back(), uniform = std::log(*vocab);
  if (final < uniform) return std::nullopt;
  return "final train loss " + fmt_fixed(final, 4) + " \u2265 ln " + short_number(*vocab) + " = " +
         fmt_fixed(uniform, 4);
}

std::optional<std::string> no_progress(const RunData& r) {
  const auto warmup = param_number(r, "train.warmup_steps");
  if (!warmup) return std::nullopt;
  const std::vector<double> v = train_values(r, static_cast<int64_t>(*warmup));
  if (v.size() < 2) return std::nullopt;
  const double last = metrics::ema(v, kTrainAlpha).back();
  if (last < v.front() - 1e-9 * std::abs(v.front())) return std::nullopt;  // a flat EMA drifts by rounding
  return "train loss " + fmt_fixed(last, 4) + " at the end not below " + fmt_fixed(v.front(), 4) +
         " right after warmup (step " + short_number(*warmup) + ")";
}

std::optional<std::string> vanishing_gradients(const RunData& r) {
  int64_t last_step = INT64_MIN;
  for (const auto& s : r.layer_stats) {
    if (s.name == "grad_norm") last_step = std::max(last_step, s.step);
  }
  std::map<int64_t, double> by_layer;
  for (const auto& s : r.layer_stats) {
    if (s.name == "grad_norm" && s.step == last_step) by_layer[s.layer] = s.value;
  }
  if (by_layer.size() < 2) return std::nullopt;
  const auto& [low_k, low] = *by_layer.begin();
  const auto& [high_k, high] = *by_layer.rbegin();
  if (!(high > 0) || !(low < kGradRatio * high)) return std::nullopt;
  return "grad norm of sublayer " + std::to_string(low_k) + " " + short_number(low) + " < " +
         short_number(kGradRatio) + " \u00d7 " + short_number(high) + " of sublayer " + std::to_string(high_k);
}

}  // namespace

std::optional<std::string> collapse_reason(const RunData& run) {
  if (auto r = uniform_entropy(run)) return r;
  if (auto r = no_progress(run)) return r;
  return vanishing_gradients(run);
}

std::optional<GroupCollapse> group_collapse(const ReportInput& in, const std::vector<size_t>& indices) {
  GroupCollapse c;
  for (size_t i : indices) {
    const RunData& r = in.runs[i];
    if (r.status != RunStatus::kCompleted) continue;
    ++c.of;
    if (auto why = collapse_reason(r)) c.runs.push_back({r.id, *why});
  }
  if (c.runs.empty()) return std::nullopt;
  return c;
}

std::string collapse_text(const std::string& label, const std::string& at, const GroupCollapse& c) {
  return label + " collapsed" + (at.empty() ? "" : " at " + at) + ": " + c.runs.front().reason + " (run " +
         c.runs.front().run_id + "; " + std::to_string(c.runs.size()) + " of " + std::to_string(c.of) + " runs).";
}

}  // namespace hcx::report
