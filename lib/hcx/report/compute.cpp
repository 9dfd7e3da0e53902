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

// When the groups differ in their residual.* keys (or the FFN's,
// grid::is_variant_key), they are residual variants and get the paper's names ("DHC×4 no-tanh", grid/variant.h), taken
// from the full config of one of their runs. Any other grouping key (a
// variant's own warmup, say) is appended where the group's value is not the
// most common one ("Post-Norm warmup_steps=200"), or in every group when no
// value is the most common. Names are kept only when they are unique.
void name_variants(std::vector<GroupResult>& groups, const std::vector<std::vector<size_t>>& members,
                   const ReportInput& in, const std::vector<std::string>& keys) {
  std::vector<std::string> others;
  for (const auto& k : keys)
    if (!grid::is_variant_key(k)) others.push_back(k);
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
      if (grid::is_variant_key(key)) config::set_dotted(j, key, config::parse_value(value));
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

namespace {

bool contains(const std::vector<std::string>& keys, const std::string& key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// The grouping keys: --group-by (checked against the keys the runs have),
// else every varying key but the seed. The --best-of keys are never grouped.
std::vector<std::string> grouping_keys(const ReportInput& in, const ReportOptions& opt,
                                       const std::vector<std::string>& varying) {
  const auto& tuned = opt.best_of.keys;  // neither grouped nor paired: each group picks its own
  std::vector<std::string> keys;
  if (opt.group_by.empty()) {
    for (const auto& k : varying) {
      if (k != "seed" && !contains(tuned, k)) keys.push_back(k);
    }
    return keys;
  }
  for (const auto& k : opt.group_by) {
    if (contains(tuned, k)) {
      throw bad_input("--best-of " + k + ": also a --group-by key; a key is either grouped or tuned");
    }
  }
  std::set<std::string> all_keys;
  for (const auto& r : in.runs) {
    for (const auto& [k, v] : r.params) all_keys.insert(k);
  }
  std::vector<Assignment> as_assign;
  for (const auto& k : opt.group_by) as_assign.push_back({k, ""});
  check_keys(as_assign, std::vector<std::string>(all_keys.begin(), all_keys.end()), "--group-by");
  return opt.group_by;
}

// The grouping keys and the pairing keys: the seed, then the varying keys
// that are neither grouped nor tuned (--best-of).
void choose_grouping_and_pairing(const ReportInput& in, const ReportOptions& opt, Report& rep) {
  const std::vector<std::string> varying = varying_keys(in);
  check_best_of(in, opt.best_of);
  rep.group_by = grouping_keys(in, opt, varying);
  rep.pair_keys.push_back("seed");
  for (const auto& k : varying) {
    if (k != "seed" && !contains(opt.best_of.keys, k) && !contains(rep.group_by, k)) rep.pair_keys.push_back(k);
  }
}

// Throws unless some run recorded the headline metric, listing the curves there are.
void check_metric_recorded(const ReportInput& in, const std::string& metric) {
  bool have_metric = false;
  std::set<std::string> curve_names;
  for (const auto& r : in.runs) {
    have_metric |= r.curves.count(metric) > 0;
    for (const auto& [name, c] : r.curves) curve_names.insert(name);
  }
  if (have_metric) return;
  std::string list;
  for (const auto& n : curve_names) list += (list.empty() ? "" : ", ") + n;
  throw bad_input("--metric " + metric + ": no selected run recorded it" +
                  (list.empty() ? std::string(" (no curves recorded yet)") : " (recorded: " + list + ")"));
}

// Every seed of the selection, sorted (all_seeds), and those reported (seeds):
// all of them, or only the --report-seeds.
void choose_seeds(const ReportInput& in, const BestOfOptions& best_of, Report& rep) {
  std::set<std::string, decltype(&value_less)> seeds(&value_less);
  for (const auto& r : in.runs) seeds.insert(param(r, "seed"));
  rep.seeds.assign(seeds.begin(), seeds.end());
  rep.all_seeds = rep.seeds;
  if (best_of.report_seeds.empty()) return;
  std::vector<std::string> reported;
  for (const auto& s : rep.seeds) {
    for (const auto& want : best_of.report_seeds) {
      if (same_value(s, want)) {
        reported.push_back(s);
        break;
      }
    }
  }
  rep.seeds = std::move(reported);
}

// One group per combination of grouping values, in order of first
// appearance; returns the indices of each group's runs.
std::vector<std::vector<size_t>> form_groups(const ReportInput& in, Report& rep) {
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
  return members;
}

bool is_grouping_key(const Report& rep, const std::string& key) { return contains(rep.group_by, key); }

// Marks the groups with the --baseline value as baseline candidates and puts
// them first, keeping grid order within each part (members move with them).
void put_baselines_first(Report& rep, std::vector<std::vector<size_t>>& members) {
  const auto& [base_key, base_value] = rep.options.baseline;
  const bool base_grouped = is_grouping_key(rep, base_key);
  std::vector<size_t> order(rep.groups.size());
  for (size_t i = 0; i < order.size(); ++i) {
    order[i] = i;
    rep.groups[i].is_baseline = base_grouped && same_value(rep.groups[i].key[base_key], base_value);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return rep.groups[a].is_baseline > rep.groups[b].is_baseline; });
  std::vector<GroupResult> groups;
  std::vector<std::vector<size_t>> moved_members;
  for (size_t i : order) {
    groups.push_back(std::move(rep.groups[i]));
    moved_members.push_back(std::move(members[i]));
  }
  rep.groups = std::move(groups);
  members = std::move(moved_members);
}

// With --best-of: the values each group is shown at, and `members` filtered
// to each group's runs on the report seeds (choose_best_of, best_of.h).
void choose_groups_best_of(const ReportInput& in, const BestOfOptions& best_of, Report& rep,
                           std::vector<std::vector<size_t>>& members) {
  if (!best_of.active()) return;
  std::vector<std::string> labels;
  for (const auto& g : rep.groups) labels.push_back(g.label);
  std::vector<BestOfChoice> choices = choose_best_of(in, best_of, labels, members);
  for (size_t gi = 0; gi < rep.groups.size(); ++gi) rep.groups[gi].best_of = std::move(choices[gi]);
}

// The figures of a group's completed runs, one entry per run (nullopt where
// the run lacks the figure), before they are summarised over seeds.
struct GroupFigures {
  std::vector<std::optional<double>> final_metric, best_metric, final_val, best_val, final_train, best_train;
  std::vector<std::optional<double>> loss_spikes, grad_norm_spikes, tokens_per_s, params;
  std::map<std::string, std::vector<double>> downstream;  // "task/metric" -> value per run
};

// Each "task/metric" score of a run at the last step it was evaluated (item counts left out).
std::map<std::string, double> last_eval_scores(const RunData& r) {
  std::map<std::string, std::pair<int64_t, double>> last;  // task/metric -> (step, value)
  for (const auto& e : r.evals) {
    if (e.metric == "n") continue;  // item counts, not scores
    const std::string key = e.task + "/" + e.metric;
    auto it = last.find(key);
    if (it == last.end() || e.step >= it->second.first) last[key] = {e.step, e.value};
  }
  std::map<std::string, double> scores;
  for (const auto& [key, step_value] : last) scores[key] = step_value.second;
  return scores;
}

void add_run_figures(const RunData& r, const std::string& metric, GroupFigures& figures,
                     std::set<std::string>& downstream_keys) {
  const Ends headline = curve_ends(r, metric), val = curve_ends(r, "val/loss"), train = curve_ends(r, "train/loss");
  figures.final_metric.push_back(headline.final);
  figures.best_metric.push_back(headline.best);
  figures.final_val.push_back(val.final);
  figures.best_val.push_back(val.best);
  figures.final_train.push_back(train.final);
  figures.best_train.push_back(train.best);
  figures.loss_spikes.push_back(spike_count(r, "train/loss"));
  figures.grad_norm_spikes.push_back(spike_count(r, "train/grad_norm"));
  figures.tokens_per_s.push_back(r.tokens_per_s);
  figures.params.push_back(r.param_count ? std::optional<double>(static_cast<double>(*r.param_count)) : std::nullopt);
  for (const auto& [key, score] : last_eval_scores(r)) {
    figures.downstream[key].push_back(score);
    downstream_keys.insert(key);
  }
}

// Mean ± std over seeds of each figure.
void summarize_figures(const GroupFigures& figures, GroupResult& g) {
  g.final_metric = summarize_opt(figures.final_metric);
  g.best_metric = summarize_opt(figures.best_metric);
  g.final_val = summarize_opt(figures.final_val);
  g.best_val = summarize_opt(figures.best_val);
  g.final_train = summarize_opt(figures.final_train);
  g.best_train = summarize_opt(figures.best_train);
  g.loss_spikes = summarize_opt(figures.loss_spikes);
  g.grad_norm_spikes = summarize_opt(figures.grad_norm_spikes);
  g.tokens_per_s = summarize_opt(figures.tokens_per_s);
  g.params = summarize_opt(figures.params);
  for (const auto& [key, values] : figures.downstream) g.downstream[key] = metrics::summarize(values);
}

// The reported seeds a group has no completed run for: "absent", or each
// unfinished run of that seed ("id:status" in `unfinished`) with its status.
void list_missing_seeds(const std::vector<std::string>& seeds,
                        const std::map<std::string, std::vector<std::string>>& unfinished, GroupResult& g) {
  std::set<std::string> have;
  for (const auto& ref : g.runs) have.insert(ref.seed);
  for (const auto& s : seeds) {
    if (have.count(s)) continue;
    const auto it = unfinished.find(s);
    if (it == unfinished.end()) {
      g.missing.push_back({s, "absent", ""});
    } else {
      for (const auto& id_status : it->second) {
        const size_t colon = id_status.rfind(':');
        g.missing.push_back({s, id_status.substr(colon + 1), id_status.substr(0, colon)});
      }
    }
  }
}

// A group's runs (completed ones for statistics, running ones to draw),
// its missing seeds, its figures and whether it collapsed.
void compute_group(const ReportInput& in, const Report& rep, const std::vector<size_t>& members, GroupResult& g,
                   std::set<std::string>& downstream_keys) {
  std::map<std::string, std::vector<std::string>> unfinished;  // seed -> "id:status"
  GroupFigures figures;
  for (size_t i : members) {
    const RunData& r = in.runs[i];
    const std::string seed = param(r, "seed");
    if (r.status != RunStatus::kCompleted) {
      if (r.status == RunStatus::kRunning) g.running.push_back(RunRef{i, r.id, seed, to_string(r.status), ""});
      unfinished[seed].push_back(r.id + ":" + to_string(r.status));
      continue;
    }
    RunRef ref{i, r.id, seed, to_string(r.status), ""};
    for (const auto& k : rep.pair_keys) {
      ref.unit += (ref.unit.empty() ? "" : ", ") + k + "=" + param(r, k);
    }
    g.runs.push_back(ref);
    add_run_figures(r, rep.options.metric, figures, downstream_keys);
    if (!g.sample_run || value_less(seed, param(in.runs[*g.sample_run], "seed"))) g.sample_run = i;
  }
  list_missing_seeds(rep.seeds, unfinished, g);
  summarize_figures(figures, g);
  g.collapse = group_collapse(in, members);
}

// Notes for a --baseline that picks no group: its key is not grouped, or no group has its value.
void note_missing_baseline(Report& rep, bool no_candidates) {
  const auto& [base_key, base_value] = rep.options.baseline;
  if (!is_grouping_key(rep, base_key)) {
    rep.notes.push_back("baseline " + base_key + "=" + base_value + ": " + base_key +
                        " is not a grouping key, so there is no Δ or speed-up");
  } else if (no_candidates) {
    rep.notes.push_back("baseline " + base_key + "=" + base_value +
                        ": no group matches, so there is no Δ or speed-up (choose one with --baseline)");
  }
}

// The grouping keys, other than the baseline's, whose value differs between the candidates.
std::vector<std::string> keys_varying_between(Report& rep, const std::vector<size_t>& candidates) {
  std::vector<std::string> keys;
  for (const auto& k : rep.group_by) {
    if (k == rep.options.baseline.first) continue;
    std::set<std::string> values;
    for (size_t c : candidates) values.insert(rep.groups[c].key[k]);
    if (values.size() > 1) keys.push_back(k);
  }
  return keys;
}

// The baseline of each group: itself for a candidate, else the first
// candidate that agrees on the grouping keys that vary between candidates
// (e.g. the same train.lr). Notes say when there is none.
void choose_baselines(Report& rep) {
  std::vector<size_t> candidates;
  for (size_t i = 0; i < rep.groups.size(); ++i) {
    if (rep.groups[i].is_baseline) candidates.push_back(i);
  }
  note_missing_baseline(rep, candidates.empty());
  const std::vector<std::string> candidate_keys = keys_varying_between(rep, candidates);
  for (size_t gi = 0; gi < rep.groups.size(); ++gi) {
    GroupResult& g = rep.groups[gi];
    if (g.is_baseline) {
      g.baseline_group = gi;
      continue;
    }
    for (size_t c : candidates) {
      bool agrees = true;
      for (const auto& k : candidate_keys) agrees &= same_value(rep.groups[c].key[k], g.key[k]);
      if (agrees) {
        g.baseline_group = c;
        break;
      }
    }
    if (!g.baseline_group && !candidates.empty()) {
      rep.notes.push_back(g.label + ": no baseline group with the same " + candidate_keys.front() + "; no Δ");
    }
  }
}

// Each run of `g` paired with the baseline run of the same unit: their final
// headline values (where both have one) and the pair's speed-up.
struct Pairs {
  std::vector<double> group_final, baseline_final;
  std::vector<std::pair<std::string, std::optional<double>>> speedups;  // unit -> speed-up
};
Pairs pair_with_baseline(const ReportInput& in, const std::string& metric, const GroupResult& g,
                         const GroupResult& baseline) {
  const double alpha = smoothing_alpha(metric);
  std::map<std::string, size_t> baseline_by_unit;
  for (const auto& ref : baseline.runs) baseline_by_unit[ref.unit] = ref.index;
  Pairs pairs;
  for (const auto& ref : g.runs) {
    const auto it = baseline_by_unit.find(ref.unit);
    if (it == baseline_by_unit.end()) continue;
    const RunData& run = in.runs[ref.index];
    const RunData& baseline_run = in.runs[it->second];
    const Ends run_ends = curve_ends(run, metric), baseline_ends = curve_ends(baseline_run, metric);
    if (run_ends.final && baseline_ends.final) {
      pairs.group_final.push_back(*run_ends.final);
      pairs.baseline_final.push_back(*baseline_ends.final);
    }
    const auto run_curve = run.curves.find(metric), baseline_curve = baseline_run.curves.find(metric);
    if (run_curve == run.curves.end() || baseline_curve == baseline_run.curves.end()) continue;
    const auto baseline_tokens = token_curve(baseline_curve->second, tokens_per_step(baseline_run));
    const auto run_tokens = token_curve(run_curve->second, tokens_per_step(run));
    if (baseline_tokens.values.empty()) continue;
    pairs.speedups.push_back({ref.unit, metrics::convergence_speedup(baseline_tokens, run_tokens, alpha).speedup});
  }
  return pairs;
}

// The seed-mean headline curve of a group's runs against tokens, at the
// group's mean tokens per step; nullopt when none of its runs has the curve.
std::optional<metrics::TokenCurve> mean_token_curve(const ReportInput& in, const std::string& metric,
                                                    const GroupResult& g) {
  std::vector<const Curve*> curves;
  double mean_tokens_per_step = 0;
  for (const auto& ref : g.runs) {
    const auto it = in.runs[ref.index].curves.find(metric);
    if (it != in.runs[ref.index].curves.end()) curves.push_back(&it->second);
    mean_tokens_per_step += tokens_per_step(in.runs[ref.index]) / static_cast<double>(g.runs.size());
  }
  if (curves.empty()) return std::nullopt;
  return token_curve(mean_curve(curves), mean_tokens_per_step);
}

// Δ (with its power) and the speed-up of each group against its baseline;
// a note for a group with no run pairs.
void compare_to_baselines(const ReportInput& in, Report& rep) {
  const std::string& metric = rep.options.metric;
  for (GroupResult& g : rep.groups) {
    if (!g.baseline_group) continue;
    const GroupResult& baseline = rep.groups[*g.baseline_group];
    Pairs pairs = pair_with_baseline(in, metric, g, baseline);
    if (&baseline != &g && !pairs.group_final.empty()) {
      g.delta = metrics::paired_difference(pairs.group_final, pairs.baseline_final);
      g.power = metrics::seed_power(*g.delta);
    }
    if (&baseline != &g && pairs.group_final.empty()) {
      rep.notes.push_back(g.label + ": no run pairs with the baseline; no Δ");
    }
    const auto baseline_curve = mean_token_curve(in, metric, baseline);
    const auto group_curve = mean_token_curve(in, metric, g);
    if (!baseline_curve || baseline_curve->values.empty() || !group_curve) continue;
    SpeedupResult speedup;
    speedup.per_pair = std::move(pairs.speedups);
    speedup.group = metrics::convergence_speedup(*baseline_curve, *group_curve, smoothing_alpha(metric));
    g.speedup = speedup;
  }
}

// The spike rule the runs recorded, e.g. "> mean + 6σ of the previous 50 values".
std::string describe_spike_rule(const ReportInput& in) {
  std::set<std::pair<std::string, std::string>> rules;
  for (const auto& r : in.runs) rules.insert({param(r, "spikes.sigma"), param(r, "spikes.window")});
  std::string rule;
  for (const auto& [sigma, window] : rules) {
    if (sigma.empty()) continue;
    rule += (rule.empty() ? "" : "; ") + std::string("> mean + ") + sigma + "σ of the previous " + window + " values";
  }
  return rule;
}

// Notes for the runs compared, if another build or other data trained some of them.
void add_provenance_notes(const ReportInput& in, Report& rep) {
  std::vector<size_t> compared;
  for (const auto& g : rep.groups) {
    for (const auto& ref : g.runs) compared.push_back(ref.index);
  }
  for (auto& n : provenance_notes(in, compared)) rep.notes.push_back(std::move(n));
}

}  // namespace

Report compute_report(const ReportInput& in, const ReportOptions& opt) {
  if (in.runs.empty()) throw bad_input("no runs selected" + (in.sweep.empty() ? "" : " in sweep " + in.sweep));
  Report rep;
  rep.sweep = in.sweep;
  rep.options = opt;
  rep.total_runs = in.runs.size();
  choose_grouping_and_pairing(in, opt, rep);
  check_metric_recorded(in, opt.metric);
  choose_seeds(in, opt.best_of, rep);

  std::vector<std::vector<size_t>> members = form_groups(in, rep);
  label_groups(rep.groups, rep.group_by);
  name_variants(rep.groups, members, in, rep.group_by);
  put_baselines_first(rep, members);
  choose_groups_best_of(in, opt.best_of, rep, members);

  std::set<std::string> downstream_keys;
  for (size_t gi = 0; gi < rep.groups.size(); ++gi) {
    compute_group(in, rep, members[gi], rep.groups[gi], downstream_keys);
  }
  rank_groups(rep);
  rep.downstream_keys.assign(downstream_keys.begin(), downstream_keys.end());

  choose_baselines(rep);
  compare_to_baselines(in, rep);
  rep.spike_rule = describe_spike_rule(in);
  add_provenance_notes(in, rep);
  return rep;
}

}  // namespace hcx::report
