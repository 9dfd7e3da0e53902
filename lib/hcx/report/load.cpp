// Loading a report's input from the results database (see load.h).
#include "hcx/report/load.h"

#include <map>
#include <set>

#include "hcx/config/run_config.h"
#include "hcx/error.h"
#include "hcx/store/reader.h"

namespace hcx::report {
namespace {

std::vector<store::RunRecord> selected_runs(const store::Db& db, const Selection& sel, std::string* sweep) {
  *sweep = resolve_sweep(db, sel.sweep);
  std::vector<store::RunRecord> runs = store::list_runs(db, *sweep);
  std::set<std::string> keys;
  for (const auto& r : runs) {
    for (const auto& [k, v] : r.params) keys.insert(k);
  }
  if (!runs.empty()) check_keys(sel.where, std::vector<std::string>(keys.begin(), keys.end()), "--where");
  std::vector<store::RunRecord> kept;
  for (auto& r : runs) {
    if (matches(r.params, sel.where)) kept.push_back(std::move(r));
  }
  return kept;
}

}  // namespace

std::string resolve_sweep(const store::Db& db, const std::string& sweep) {
  const std::vector<store::SweepInfo> sweeps = store::list_sweeps(db);
  if (sweep.empty()) return sweeps.empty() ? "" : sweeps.front().name;
  std::vector<std::string> names;
  for (const auto& s : sweeps) {
    if (s.name == sweep) return sweep;
    names.push_back(s.name);
  }
  const std::string near = config::nearest(sweep, names);
  throw bad_input("--sweep " + sweep + ": no such sweep in " + db.path().string() +
                  (near.empty() ? "" : " (did you mean '" + near + "'?)"));
}

std::vector<std::string> select_run_ids(const store::Db& db, const Selection& sel, std::string* sweep_name) {
  std::string sweep;
  std::vector<std::string> ids;
  for (const auto& r : selected_runs(db, sel, &sweep)) ids.push_back(r.id);
  if (sweep_name) *sweep_name = sweep;
  return ids;
}

ReportInput load_input(const store::Db& db, const Selection& sel, const LoadScope& scope) {
  ReportInput in;
  std::vector<store::RunRecord> runs = selected_runs(db, sel, &in.sweep);
  if (runs.empty()) return in;
  std::vector<std::string> ids;
  std::map<std::string, size_t> index;
  for (auto& r : runs) {
    index[r.id] = in.runs.size();
    ids.push_back(r.id);
    RunData d;
    d.id = r.id;
    d.status = r.status;
    d.params = std::move(r.params);
    d.summary = std::move(r.summary);
    d.step = r.step;
    d.tokens = r.tokens;
    d.param_count = r.param_count;
    d.tokens_per_s = r.tokens_per_s;
    if (!d.tokens_per_s && d.summary.count("tokens_per_s")) d.tokens_per_s = d.summary.at("tokens_per_s");
    in.runs.push_back(std::move(d));
  }
  for (const auto& name : scope.curves) {
    for (auto& [id, c] : store::metric_curves(db, name, ids)) {
      Curve& dst = in.runs[index.at(id)].curves[name];
      dst.steps = std::move(c.steps);
      dst.values = std::move(c.values);
    }
  }
  for (const auto& s : store::read_spikes(db, ids)) {
    in.runs[index.at(s.run_id)].spikes.push_back({s.metric, s.step, s.value, s.score});
  }
  for (const auto& e : store::read_evals(db, ids)) {
    in.runs[index.at(e.run_id)].evals.push_back({e.step, e.task, e.metric, e.value});
  }
  if (!scope.diagnostics) return in;
  std::map<std::string, int64_t> last_step;
  const auto stats = store::read_layer_stats(db, ids);
  for (const auto& s : stats) {
    auto [it, fresh] = last_step.emplace(s.run_id, s.step);
    if (!fresh && s.step > it->second) it->second = s.step;
  }
  for (const auto& s : stats) {
    if (s.step == last_step[s.run_id]) in.runs[index.at(s.run_id)].layer_stats.push_back({s.step, s.layer, s.name, s.value});
  }
  for (auto& m : store::read_hc_matrices(db, ids, /*last_step_only=*/true)) {
    in.runs[index.at(m.run_id)].matrices.push_back(
        {m.step, m.layer, m.sublayer, m.name, m.rows, m.cols, std::move(m.values)});
  }
  return in;
}

}  // namespace hcx::report
