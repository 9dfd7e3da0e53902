// JSON rendering of a report (see json.h).
#include "hcx/report/json.h"

#include <cmath>

#include "hcx/report/table.h"

namespace hcx::report {
namespace {

using Json = nlohmann::json;

Json number(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

Json number(const std::optional<double>& v) { return v ? number(*v) : Json(nullptr); }

Json summary(const metrics::Summary& s) {
  return {{"n", s.n}, {"mean", number(s.mean)}, {"std", number(s.std)}};
}

Json group_json(const Report& r, const GroupResult& g) {
  Json j;
  j["label"] = g.label;
  j["key"] = g.key;
  j["is_baseline"] = g.is_baseline;
  j["baseline"] = g.baseline_group ? Json(r.groups[*g.baseline_group].label) : Json(nullptr);
  j["runs"] = Json::array();
  for (const auto& ref : g.runs) j["runs"].push_back({{"id", ref.id}, {"seed", ref.seed}, {"unit", ref.unit}});
  j["n"] = g.runs.size();
  j["missing"] = Json::array();
  for (const auto& m : g.missing) {
    j["missing"].push_back({{"seed", m.seed}, {"status", m.status}, {"run_id", m.run_id}});
  }
  j["metric_final"] = summary(g.final_metric);
  j["metric_best"] = summary(g.best_metric);
  j["val_loss_final"] = summary(g.final_val);
  j["val_loss_best"] = summary(g.best_val);
  j["train_loss_final"] = summary(g.final_train);
  j["train_loss_best"] = summary(g.best_train);
  j["loss_spikes"] = summary(g.loss_spikes);
  j["grad_norm_spikes"] = summary(g.grad_norm_spikes);
  j["tokens_per_s"] = summary(g.tokens_per_s);
  j["params"] = summary(g.params);
  if (g.delta) {
    const auto& d = *g.delta;
    j["delta"] = {{"n", d.n},
                  {"mean", number(d.mean)},
                  {"std", number(d.std)},
                  {"ci_low", number(d.ci_low)},
                  {"ci_high", number(d.ci_high)},
                  {"level", d.level},
                  {"contains_zero", d.contains_zero()}};
    if (g.power) {
      const metrics::PowerOptions opt;
      const auto& n = g.power->needed;
      const bool found = n.kind == metrics::SeedsNeeded::Kind::kFound;
      j["delta"]["power"] = {
          {"alpha", opt.alpha},
          {"power", opt.power},
          {"mde", number(g.power->mde)},
          {"seeds_needed", found ? Json(n.seeds) : Json(nullptr)},
          {"seeds_needed_status", found ? "found"
                                  : n.kind == metrics::SeedsNeeded::Kind::kAboveCap ? "above_cap"
                                                                                    : "not_applicable"},
          {"max_seeds", opt.max_seeds}};
    }
  } else {
    j["delta"] = nullptr;
  }
  if (g.speedup) {
    const auto& s = g.speedup->group;
    Json pairs = Json::array();
    for (const auto& [unit, v] : g.speedup->per_pair) pairs.push_back({{"unit", unit}, {"value", number(v)}});
    j["speedup"] = {{"value", number(s.speedup)},
                    {"reached", s.variant_tokens.has_value()},
                    {"target", number(s.target)},
                    {"baseline_tokens", number(s.baseline_tokens)},
                    {"tokens", number(s.variant_tokens)},
                    {"alpha", s.alpha},
                    {"per_pair", pairs}};
  } else {
    j["speedup"] = nullptr;
  }
  j["downstream"] = Json::object();
  for (const auto& [k, s] : g.downstream) j["downstream"][k] = summary(s);
  j["best_of"] = nullptr;
  if (g.best_of) {
    Json cands = Json::array();
    for (const auto& c : g.best_of->candidates) {
      cands.push_back({{"values", c.values}, {"n", c.n}, {"val_loss_mean", number(c.mean_val)}});
    }
    j["best_of"] = {{"chosen", g.best_of->chosen}, {"candidates", cands}};
  }
  j["collapsed"] = nullptr;
  if (g.collapse) {
    Json runs = Json::array();
    for (const auto& c : g.collapse->runs) runs.push_back({{"id", c.run_id}, {"reason", c.reason}});
    j["collapsed"] = {{"runs", runs}, {"of", g.collapse->of}};
  }
  return j;
}

}  // namespace

Json to_json(const Report& r) {
  Json j;
  j["sweep"] = r.sweep;
  j["metric"] = r.options.metric;
  j["baseline"] = {{"key", r.options.baseline.first}, {"value", r.options.baseline.second}};
  j["group_by"] = r.group_by;
  j["pair_keys"] = r.pair_keys;
  j["seeds"] = r.seeds;
  j["runs"] = r.total_runs;
  j["definitions"] = {{"train_ema_alpha", kTrainAlpha},
                      {"metric_ema_alpha", smoothing_alpha(r.options.metric)},
                      {"ci_level", 0.95},
                      {"tokens_per_step", "train.batch_size * model.seq_len * train.grad_accum"},
                      {"spike_rule", r.spike_rule}};
  j["groups"] = Json::array();
  for (const auto& g : r.groups) j["groups"].push_back(group_json(r, g));
  j["ranking"] = Json::array();
  for (size_t gi : r.ranking) j["ranking"].push_back(r.groups[gi].label);
  j["include_collapsed"] = r.options.include_collapsed;
  const BestOfOptions& b = r.options.best_of;
  j["best_of"] = b.active() ? Json{{"keys", b.keys},
                                   {"select_seeds", b.select_seeds.empty() ? r.all_seeds : b.select_seeds},
                                   {"report_seeds", b.report_seeds.empty() ? r.all_seeds : b.report_seeds}}
                            : Json(nullptr);
  j["footnotes"] = report_footnotes(r);
  return j;
}

void render_json(const Report& report, std::ostream& out) { out << to_json(report).dump(2) << "\n"; }

}  // namespace hcx::report
