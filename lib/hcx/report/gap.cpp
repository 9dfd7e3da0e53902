// Paired Δ to the baseline at every evaluation step (see gap.h).
#include "hcx/report/gap.h"

#include <cmath>
#include <map>

namespace hcx::report {
namespace {

// step -> value of a run's curve, finite values only.
std::map<int64_t, double> finite_by_step(const RunData& r, const std::string& metric) {
  std::map<int64_t, double> out;
  const auto it = r.curves.find(metric);
  if (it == r.curves.end()) return out;
  for (size_t i = 0; i < it->second.steps.size(); ++i) {
    if (std::isfinite(it->second.values[i])) out[it->second.steps[i]] = it->second.values[i];
  }
  return out;
}

}  // namespace

std::vector<GapSeries> gap_series(const Report& rep, const ReportInput& in, const std::string& metric) {
  std::vector<GapSeries> out;
  for (size_t gi = 0; gi < rep.groups.size(); ++gi) {
    const GroupResult& g = rep.groups[gi];
    if (!g.baseline_group || *g.baseline_group == gi) continue;
    std::map<std::string, size_t> base_by_unit;
    for (const auto& ref : rep.groups[*g.baseline_group].runs) base_by_unit[ref.unit] = ref.index;
    // step -> (variant values, baseline values), aligned by pair.
    std::map<int64_t, std::pair<std::vector<double>, std::vector<double>>> at;
    double per_step = 0;
    size_t pairs = 0;
    for (const auto& ref : g.runs) {
      const auto b = base_by_unit.find(ref.unit);
      if (b == base_by_unit.end()) continue;
      const auto v_vals = finite_by_step(in.runs[ref.index], metric);
      const auto b_vals = finite_by_step(in.runs[b->second], metric);
      bool any = false;
      for (const auto& [step, v] : v_vals) {
        const auto bv = b_vals.find(step);
        if (bv == b_vals.end()) continue;
        at[step].first.push_back(v);
        at[step].second.push_back(bv->second);
        any = true;
      }
      if (any) {
        per_step += tokens_per_step(in.runs[ref.index]);
        ++pairs;
      }
    }
    if (at.empty()) continue;
    per_step /= static_cast<double>(pairs);
    GapSeries s;
    s.group = gi;
    for (const auto& [step, vb] : at) {
      s.points.push_back({step, static_cast<double>(step) * per_step, metrics::paired_difference(vb.first, vb.second)});
    }
    out.push_back(std::move(s));
  }
  return out;
}

LineChart gap_chart(const Report& rep, const ReportInput& in, const std::string& metric) {
  LineChart c;
  c.id = "chart-gap";
  c.title = "Gap to the baseline over training";
  c.subtitle = "paired \u0394 (group \u2212 baseline) of " + metric +
               " at each evaluation, pairs by " + (rep.pair_keys.empty() ? std::string("seed") : rep.pair_keys.front()) +
               (rep.pair_keys.size() > 1 ? " etc." : "") + "; band: 95% t interval; dashed: \u0394 = 0";
  c.x_label = "tokens";
  c.y_label = "\u0394 " + metric;
  c.ref_y = 0.0;
  for (const auto& gs : gap_series(rep, in, metric)) {
    Series s;
    s.name = rep.groups[gs.group].label;
    s.color = palette(gs.group);
    for (const auto& p : gs.points) {
      s.line.push_back({p.tokens, p.delta.mean});
      if (std::isfinite(p.delta.ci_low)) {
        s.band_low.push_back({p.tokens, p.delta.ci_low});
        s.band_high.push_back({p.tokens, p.delta.ci_high});
      }
    }
    c.series.push_back(std::move(s));
  }
  return c;
}

}  // namespace hcx::report
