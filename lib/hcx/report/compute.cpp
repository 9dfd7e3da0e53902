// Grouping, baselines and per-group statistics of `hcx report` (see compute.h).
#include "hcx/report/compute.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "hcx/config/run_config.h"
#include "hcx/error.h"
#include "hcx/grid/variant.h"
#include "hcx/report/provenance.h"
#include "hcx/report/select.h"

namespace hcx::report {
namespace {

std::string param(const RunData& r, const std::string& key) {
  const auto it = r.params.find(key);
  return it == r.params.end() ? "" : it->second;
}

double param_number(const RunData& r, const std::string& key) {
  const std::string v = param(r, key);
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  return !v.empty() && end == v.c_str() + v.size() ? d : 0.0;
}

// Last and minimum of a curve (train/* smoothed first), ignoring NaN.
struct Ends {
  std::optional<double> final, best;
};
Ends curve_ends(const RunData& r, const std::string& name) {
  const auto it = r.curves.find(name);
  if (it == r.curves.end() || it->second.values.empty()) return {};
  std::vector<double> finite;
  finite.reserve(it->second.values.size());
  for (double v : it->second.values) {
    if (std::isfinite(v)) finite.push_back(v);
  }
  if (finite.empty()) return {};
  if (name.rfind("train/", 0) == 0) finite = metrics::ema(finite, kTrainAlpha);
  return {finite.back(), *std::min_element(finite.begin(), finite.end())};
}

// The curve against tokens; NaN points dropped.
metrics::TokenCurve token_curve(const Curve& c, double per_step) {
  metrics::TokenCurve t;
  for (size_t i = 0; i < c.steps.size(); ++i) {
    if (!std::isfinite(c.values[i])) continue;
    t.tokens.push_back(static_cast<double>(c.steps[i]) * per_step);
    t.values.push_back(c.values[i]);
  }
  return t;
}

}  // namespace

Curve mean_curve(const std::vector<const Curve*>& curves) {
  Curve out;
  if (curves.empty()) return out;
  bool aligned = true;  // the usual case: every seed logged the same steps
  for (const Curve* c : curves) aligned &= c->steps == curves.front()->steps;
  if (aligned) {
    out.steps = curves.front()->steps;
    out.values.assign(out.steps.size(), 0.0);
    for (const Curve* c : curves) {
      for (size_t i = 0; i < c->values.size(); ++i) out.values[i] += c->values[i];
    }
    for (double& v : out.values) v /= static_cast<double>(curves.size());
    return out;
  }
  std::map<int64_t, std::pair<double, size_t>> acc;
  for (const Curve* c : curves) {
    for (size_t i = 0; i < c->steps.size(); ++i) {
      auto& [sum, n] = acc[c->steps[i]];
      sum += c->values[i];
      ++n;
    }
  }
  for (const auto& [step, sn] : acc) {
    if (sn.second != curves.size()) continue;
    out.steps.push_back(step);
    out.values.push_back(sn.first / static_cast<double>(sn.second));
  }
  return out;
}

namespace {

metrics::Summary summarize_opt(const std::vector<std::optional<double>>& values) {
  std::vector<double> v;
  for (const auto& x : values) {
    if (x) v.push_back(*x);
  }
  return metrics::summarize(v);
}

std::string short_key(const std::string& key, const std::vector<std::string>& all) {
  const std::string tail = key.substr(key.rfind('.') + 1);
  int same = 0;
  for (const auto& k : all) same += k.substr(k.rfind('.') + 1) == tail;
  return same == 1 ? tail : key;
}

// Keys whose value differs between runs (missing counts as ""), in config
// order, then any others alphabetically.
std::vector<std::string> varying_keys(const ReportInput& in) {
  std::map<std::string, std::set<std::string>> values;
  for (const auto& r : in.runs) {
    for (const auto& [k, v] : r.params) values[k];
  }
  for (const auto& r : in.runs) {
    for (auto& [k, set] : values) set.insert(param(r, k));
  }
  std::vector<std::string> out;
  for (const auto& k : config::known_keys()) {
    const auto it = values.find(k);
    if (it != values.end() && it->second.size() > 1) out.push_back(k);
  }
  for (const auto& [k, set] : values) {
    if (set.size() > 1 && std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
  }
  return out;
}

// The run's own count (run_summary), else the spike rows it stored.
double spike_count(const RunData& r, const std::string& metric) {
  const auto it = r.summary.find("spikes/" + metric + "/count");
  if (it != r.summary.end()) return it->second;
  return static_cast<double>(std::count_if(r.spikes.begin(), r.spikes.end(),
                                           [&](const SpikeMark& s) { return s.metric == metric; }));
}

// Labels name the first grouping key, then only the keys that vary among
// the groups sharing its value: "kind=pre_norm" rather than "kind=pre_norm,
// dynamic=true, n=4" when n and dynamic only vary between hc groups. Labels
// stay unique: two groups with the same first value differ in a key that
// varies among them, and both labels show it.
void label_groups(std::vector<GroupResult>& groups, const std::vector<std::string>& keys) {
  for (auto& g : groups) {
    if (keys.empty()) {
      g.label = "all runs";
      continue;
    }
    for (size_t k = 0; k < keys.size(); ++k) {
      bool show = k == 0;
      for (const auto& other : groups) {
        show |= other.key.at(keys[0]) == g.key.at(keys[0]) && other.key.at(keys[k]) != g.key.at(keys[k]);
      }
      if (show) g.label += (g.label.empty() ? "" : ", ") + short_key(keys[k], keys) + "=" + g.key.at(keys[k]);
    }
  }
}

// When the groups differ in their residual.* keys, they are residual
// variants and get the paper's names ("DHC×4 no-tanh", grid/variant.h), taken
// from the full config of one of their runs. Any other grouping key (a
// variant's own warmup, say) is appended where the group's value is not the
// most common one ("Post-Norm warmup_steps=200"), or in every group when no
// value is the most common. Names are kept only when they are unique.
void name_variants(std::vector<GroupResult>& groups, const std::vector<std::vector<size_t>>& members,
                   const ReportInput& in, const std::vector<std::string>& keys) {
  std::vector<std::string> others;
  for (const auto& k : keys)
    if (k.rfind("residual.", 0) != 0) others.push_back(k);
  if (others.size() == keys.size()) return;
  // other key -> its most common value over the groups; "" (never a value
  // shown, so the key is named in every group) when two values tie, as on a
  // crossed axis: "Pre-Norm lr=0.001", "Pre-Norm lr=0.003".
  std::map<std::string, std::string> usual;
  for (const auto& k : others) {
    std::map<std::string, size_t> count;
    for (const auto& g : groups) ++count[g.key.at(k)];
    size_t best = 0, ties = 0;
    for (const auto& [value, n] : count) {
      if (n > best) {
        best = n;
        ties = 1;
        usual[k] = value;
      } else if (n == best) {
        ++ties;
      }
    }
    if (ties > 1) usual[k] = "";
  }
  std::vector<std::string> names;
  std::set<std::string> unique;
  for (size_t g = 0; g < groups.size(); ++g) {
    if (members[g].empty()) return;
    config::Json j = config::Json::object();
    for (const auto& [key, value] : in.runs[members[g].front()].params)
      if (key.rfind("residual.", 0) == 0) config::set_dotted(j, key, config::parse_value(value));
    std::vector<std::string> errors;
    const config::RunConfig c = config::from_json(j, errors);
    if (!errors.empty()) return;
    std::string name = grid::variant_name(c);
    for (const auto& k : others) {
      if (groups[g].key.at(k) != usual[k]) name += " " + short_key(k, keys) + "=" + groups[g].key.at(k);
    }
    names.push_back(name);
    unique.insert(names.back());
  }
  if (unique.size() != groups.size()) return;
  for (size_t g = 0; g < groups.size(); ++g) groups[g].label = names[g];
}

// Groups with a final headline metric, lowest mean first (ties in report
// order); collapsed groups only with include_collapsed.
void rank_groups(Report& rep) {
  for (size_t gi = 0; gi < rep.groups.size(); ++gi) {
    const GroupResult& g = rep.groups[gi];
    if (g.final_metric.n == 0 || (g.collapse && !rep.options.include_collapsed)) continue;
    rep.ranking.push_back(gi);
  }
  std::stable_sort(rep.ranking.begin(), rep.ranking.end(), [&](size_t a, size_t b) {
    return rep.groups[a].final_metric.mean < rep.groups[b].final_metric.mean;
  });
}

}  // namespace

double smoothing_alpha(const std::string& metric) {
  return metric.rfind("train/", 0) == 0 ? kTrainAlpha : kValAlpha;
}

double tokens_per_step(const RunData& run) {
  const double b = param_number(run, "train.batch_size"), t = param_number(run, "model.seq_len");
  const double a = run.params.count("train.grad_accum") ? param_number(run, "train.grad_accum") : 1.0;
  if (b > 0 && t > 0 && a > 0) return b * t * a;
  return run.step > 0 ? static_cast<double>(run.tokens) / static_cast<double>(run.step) : 0.0;
}

Report compute_report(const ReportInput& in, const ReportOptions& opt) {
  if (in.runs.empty()) throw bad_input("no runs selected" + (in.sweep.empty() ? "" : " in sweep " + in.sweep));
  Report rep;
  rep.sweep = in.sweep;
  rep.options = opt;
  rep.total_runs = in.runs.size();

  // Keys: grouping, pairing.
  std::set<std::string> all_keys;
  for (const auto& r : in.runs) {
    for (const auto& [k, v] : r.params) all_keys.insert(k);
  }
  const std::vector<std::string> known(all_keys.begin(), all_keys.end());
  const std::vector<std::string> varying = varying_keys(in);
  check_best_of(in, opt.best_of);
  const auto& tuned = opt.best_of.keys;  // neither grouped nor paired: each group picks its own
  auto is_tuned = [&](const std::string& k) { return std::find(tuned.begin(), tuned.end(), k) != tuned.end(); };
  if (opt.group_by.empty()) {
    for (const auto& k : varying) {
      if (k != "seed" && !is_tuned(k)) rep.group_by.push_back(k);
    }
  } else {
    for (const auto& k : opt.group_by) {
      if (is_tuned(k)) throw bad_input("--best-of " + k + ": also a --group-by key; a key is either grouped or tuned");
    }
    std::vector<Assignment> as_assign;
    for (const auto& k : opt.group_by) as_assign.push_back({k, ""});
    check_keys(as_assign, known, "--group-by");
    rep.group_by = opt.group_by;
  }
  rep.pair_keys.push_back("seed");
  for (const auto& k : varying) {
    if (k != "seed" && !is_tuned(k) && std::find(rep.group_by.begin(), rep.group_by.end(), k) == rep.group_by.end()) {
      rep.pair_keys.push_back(k);
    }
  }

  // Headline metric present somewhere?
  bool have_metric = false;
  std::set<std::string> curve_names;
  for (const auto& r : in.runs) {
    have_metric |= r.curves.count(opt.metric) > 0;
    for (const auto& [name, c] : r.curves) curve_names.insert(name);
  }
  if (!have_metric) {
    std::string list;
    for (const auto& n : curve_names) list += (list.empty() ? "" : ", ") + n;
    throw bad_input("--metric " + opt.metric + ": no selected run recorded it" +
                    (list.empty() ? std::string(" (no curves recorded yet)") : " (recorded: " + list + ")"));
  }

  // Seeds of the whole selection.
  std::set<std::string, decltype(&value_less)> seeds(&value_less);
  for (const auto& r : in.runs) seeds.insert(param(r, "seed"));
  rep.seeds.assign(seeds.begin(), seeds.end());
  rep.all_seeds = rep.seeds;
  if (!opt.best_of.report_seeds.empty()) {
    std::vector<std::string> reported;
    for (const auto& s : rep.seeds) {
      for (const auto& want : opt.best_of.report_seeds) {
        if (same_value(s, want)) {
          reported.push_back(s);
          break;
        }
      }
    }
    rep.seeds = std::move(reported);
  }

  // Groups in order of first appearance.
  std::vector<std::vector<size_t>> members;
  std::map<std::vector<std::string>, size_t> group_of;
  for (size_t i = 0; i < in.runs.size(); ++i) {
    std::vector<std::string> values;
    for (const auto& k : rep.group_by) values.push_back(param(in.runs[i], k));
    auto [it, fresh] = group_of.emplace(values, rep.groups.size());
    if (fresh) {
      GroupResult g;
      for (size_t k = 0; k < rep.group_by.size(); ++k) g.key[rep.group_by[k]] = values[k];
      rep.groups.push_back(std::move(g));
      members.emplace_back();
    }
    members[it->second].push_back(i);
  }

  label_groups(rep.groups, rep.group_by);
  name_variants(rep.groups, members, in, rep.group_by);

  // Baseline candidates first, keeping grid order within each part.
  const auto& [base_key, base_value] = opt.baseline;
  const bool base_grouped = std::find(rep.group_by.begin(), rep.group_by.end(), base_key) != rep.group_by.end();
  std::vector<size_t> order(rep.groups.size());
  for (size_t i = 0; i < order.size(); ++i) {
    order[i] = i;
    rep.groups[i].is_baseline = base_grouped && same_value(rep.groups[i].key[base_key], base_value);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return rep.groups[a].is_baseline > rep.groups[b].is_baseline; });
  {
    std::vector<GroupResult> g;
    std::vector<std::vector<size_t>> m;
    for (size_t i : order) {
      g.push_back(std::move(rep.groups[i]));
      m.push_back(std::move(members[i]));
    }
    rep.groups = std::move(g);
    members = std::move(m);
  }

  if (opt.best_of.active()) {
    std::vector<std::string> labels;
    for (const auto& g : rep.groups) labels.push_back(g.label);
    std::vector<BestOfChoice> choices = choose_best_of(in, opt.best_of, labels, members);
    for (size_t gi = 0; gi < rep.groups.size(); ++gi) rep.groups[gi].best_of = std::move(choices[gi]);
  }

  // Per-group runs, missing seeds and figures.
  std::set<std::string> downstream_keys;
  for (size_t gi = 0; gi < rep.groups.size(); ++gi) {
    GroupResult& g = rep.groups[gi];
    std::map<std::string, std::vector<std::string>> not_done;  // seed -> "id (status)"
    std::vector<std::optional<double>> fm, bm, fv, bv, ft, bt, ls, gs, tps, pc;
    std::map<std::string, std::vector<double>> down;
    for (size_t i : members[gi]) {
      const RunData& r = in.runs[i];
      const std::string seed = param(r, "seed");
      if (r.status != "completed") {
        if (r.status == "running") g.running.push_back(RunRef{i, r.id, seed, r.status, ""});
        not_done[seed].push_back(r.id + ":" + r.status);
        continue;
      }
      RunRef ref{i, r.id, seed, r.status, ""};
      for (const auto& k : rep.pair_keys) {
        ref.unit += (ref.unit.empty() ? "" : ", ") + k + "=" + param(r, k);
      }
      g.runs.push_back(ref);
      const Ends m = curve_ends(r, opt.metric), v = curve_ends(r, "val/loss"), t = curve_ends(r, "train/loss");
      fm.push_back(m.final);
      bm.push_back(m.best);
      fv.push_back(v.final);
      bv.push_back(v.best);
      ft.push_back(t.final);
      bt.push_back(t.best);
      ls.push_back(spike_count(r, "train/loss"));
      gs.push_back(spike_count(r, "train/grad_norm"));
      tps.push_back(r.tokens_per_s);
      pc.push_back(r.param_count ? std::optional<double>(static_cast<double>(*r.param_count)) : std::nullopt);
      std::map<std::string, std::pair<int64_t, double>> last;  // task/metric -> (step, value)
      for (const auto& e : r.evals) {
        if (e.metric == "n") continue;  // item counts, not scores
        const std::string key = e.task + "/" + e.metric;
        auto it = last.find(key);
        if (it == last.end() || e.step >= it->second.first) last[key] = {e.step, e.value};
      }
      for (const auto& [key, sv] : last) {
        down[key].push_back(sv.second);
        downstream_keys.insert(key);
      }
      if (!g.sample_run || value_less(seed, param(in.runs[*g.sample_run], "seed"))) g.sample_run = i;
    }
    std::set<std::string> have;
    for (const auto& ref : g.runs) have.insert(ref.seed);
    for (const auto& s : rep.seeds) {
      if (have.count(s)) continue;
      const auto it = not_done.find(s);
      if (it == not_done.end()) {
        g.missing.push_back({s, "absent", ""});
      } else {
        for (const auto& idst : it->second) {
          const size_t colon = idst.rfind(':');
          g.missing.push_back({s, idst.substr(colon + 1), idst.substr(0, colon)});
        }
      }
    }
    g.final_metric = summarize_opt(fm);
    g.best_metric = summarize_opt(bm);
    g.final_val = summarize_opt(fv);
    g.best_val = summarize_opt(bv);
    g.final_train = summarize_opt(ft);
    g.best_train = summarize_opt(bt);
    g.loss_spikes = summarize_opt(ls);
    g.grad_norm_spikes = summarize_opt(gs);
    g.tokens_per_s = summarize_opt(tps);
    g.params = summarize_opt(pc);
    for (const auto& [key, values] : down) g.downstream[key] = metrics::summarize(values);
    g.collapse = group_collapse(in, members[gi]);
  }
  rank_groups(rep);
  rep.downstream_keys.assign(downstream_keys.begin(), downstream_keys.end());

  // Baseline of each group: among the candidates, the one that agrees on the
  // grouping keys that vary between candidates (e.g. the same train.lr).
  std::vector<size_t> candidates;
  for (size_t i = 0; i < rep.groups.size(); ++i) {
    if (rep.groups[i].is_baseline) candidates.push_back(i);
  }
  if (!base_grouped) {
    rep.notes.push_back("baseline " + base_key + "=" + base_value + ": " + base_key +
                        " is not a grouping key, so there is no Δ or speed-up");
  } else if (candidates.empty()) {
    rep.notes.push_back("baseline " + base_key + "=" + base_value +
                        ": no group matches, so there is no Δ or speed-up (choose one with --baseline)");
  }
  std::vector<std::string> cand_keys;
  for (const auto& k : rep.group_by) {
    if (k == base_key) continue;
    std::set<std::string> vals;
    for (size_t c : candidates) vals.insert(rep.groups[c].key[k]);
    if (vals.size() > 1) cand_keys.push_back(k);
  }
  for (size_t gi = 0; gi < rep.groups.size(); ++gi) {
    GroupResult& g = rep.groups[gi];
    if (g.is_baseline) {
      g.baseline_group = gi;
      continue;
    }
    for (size_t c : candidates) {
      bool ok = true;
      for (const auto& k : cand_keys) ok &= same_value(rep.groups[c].key[k], g.key[k]);
      if (ok) {
        g.baseline_group = c;
        break;
      }
    }
    if (!g.baseline_group && !candidates.empty()) {
      rep.notes.push_back(g.label + ": no baseline group with the same " + cand_keys.front() + "; no Δ");
    }
  }

  // Δ and speed-up against the baseline.
  const double alpha = smoothing_alpha(opt.metric);
  for (size_t gi = 0; gi < rep.groups.size(); ++gi) {
    GroupResult& g = rep.groups[gi];
    if (!g.baseline_group) continue;
    const GroupResult& b = rep.groups[*g.baseline_group];
    std::map<std::string, size_t> base_by_unit;
    for (const auto& ref : b.runs) base_by_unit[ref.unit] = ref.index;
    std::vector<double> var_final, base_final;
    SpeedupResult sp;
    for (const auto& ref : g.runs) {
      const auto it = base_by_unit.find(ref.unit);
      if (it == base_by_unit.end()) continue;
      const RunData& rv = in.runs[ref.index];
      const RunData& rb = in.runs[it->second];
      const Ends ev = curve_ends(rv, opt.metric), eb = curve_ends(rb, opt.metric);
      if (ev.final && eb.final) {
        var_final.push_back(*ev.final);
        base_final.push_back(*eb.final);
      }
      const auto cv = rv.curves.find(opt.metric), cb = rb.curves.find(opt.metric);
      if (cv == rv.curves.end() || cb == rb.curves.end()) continue;
      const auto tb = token_curve(cb->second, tokens_per_step(rb));
      const auto tv = token_curve(cv->second, tokens_per_step(rv));
      if (tb.values.empty()) continue;
      sp.per_pair.push_back({ref.unit, metrics::convergence_speedup(tb, tv, alpha).speedup});
    }
    if (&b != &g && !var_final.empty()) {
      g.delta = metrics::paired_difference(var_final, base_final);
      g.power = metrics::seed_power(*g.delta);
    }
    if (&b != &g && var_final.empty()) rep.notes.push_back(g.label + ": no run pairs with the baseline; no Δ");

    std::vector<const Curve*> gc, bc;
    double g_tps = 0, b_tps = 0;
    for (const auto& ref : g.runs) {
      const auto it = in.runs[ref.index].curves.find(opt.metric);
      if (it != in.runs[ref.index].curves.end()) gc.push_back(&it->second);
      g_tps += tokens_per_step(in.runs[ref.index]) / static_cast<double>(g.runs.size());
    }
    for (const auto& ref : b.runs) {
      const auto it = in.runs[ref.index].curves.find(opt.metric);
      if (it != in.runs[ref.index].curves.end()) bc.push_back(&it->second);
      b_tps += tokens_per_step(in.runs[ref.index]) / static_cast<double>(b.runs.size());
    }
    const auto tb = token_curve(mean_curve(bc), b_tps);
    if (tb.values.empty() || gc.empty()) continue;
    sp.group = metrics::convergence_speedup(tb, token_curve(mean_curve(gc), g_tps), alpha);
    g.speedup = sp;
  }

  // The spike rule the runs recorded.
  std::set<std::pair<std::string, std::string>> rules;
  for (const auto& r : in.runs) rules.insert({param(r, "spikes.sigma"), param(r, "spikes.window")});
  for (const auto& [sigma, window] : rules) {
    if (sigma.empty()) continue;
    rep.spike_rule += (rep.spike_rule.empty() ? "" : "; ") + std::string("> mean + ") + sigma +
                      "σ of the previous " + window + " values";
  }

  // The runs compared, if another build or other data trained some of them.
  std::vector<size_t> compared;
  for (const auto& g : rep.groups) {
    for (const auto& ref : g.runs) compared.push_back(ref.index);
  }
  for (auto& n : provenance_notes(in, compared)) rep.notes.push_back(std::move(n));
  return rep;
}

}  // namespace hcx::report
