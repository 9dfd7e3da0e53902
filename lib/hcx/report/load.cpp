// Loading a report's input from the results database (see load.h).
#include "hcx/report/load.h"

#include <algorithm>
#include <exception>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "hcx/config/run_config.h"
#include "hcx/error.h"
#include "hcx/store/reader.h"
#include "hcx/store/runs.h"
#include "hcx/util/text.h"

namespace hcx::report {
namespace {

// Keeps the runs of `runs` whose id is in `ids` (sorted).
void keep_ids(std::vector<store::RunRecord>& runs, const std::vector<std::string>& ids) {
  auto unwanted = [&](const store::RunRecord& r) { return !std::binary_search(ids.begin(), ids.end(), r.id); };
  runs.erase(std::remove_if(runs.begin(), runs.end(), unwanted), runs.end());
}

// The ids of `runs` that `wanted` names (whole ids, or unique prefixes of 4
// or more digits), sorted. An id that names none or several is bad input.
std::vector<std::string> resolve_ids(const std::vector<store::RunRecord>& runs, const std::vector<std::string>& wanted,
                                     const std::string& scope) {
  std::vector<std::string> all, ids;
  for (const auto& r : runs) all.push_back(r.id);
  for (const auto& w : wanted) {
    const std::vector<std::string> hits = store::match_run_id(all, w);
    if (hits.size() > 1)
      throw bad_input("--runs " + w + ": " + std::to_string(hits.size()) + " runs start so; give more digits");
    if (hits.empty()) throw bad_input("--runs " + w + ": no such run in " + scope + " (hcx status lists the runs)");
    ids.push_back(hits.front());
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<store::RunRecord> selected_runs(const store::Db& db, const Selection& sel, std::string* sweep) {
  std::vector<store::RunRecord> runs;
  if (sel.sweep == kAllRuns || sel.sweep == kUnswept) {
    *sweep = sel.sweep == kAllRuns ? "" : sel.sweep;
    runs = store::list_runs(db, "");
    if (sel.sweep == kUnswept) keep_ids(runs, store::unswept_run_ids(db));
  } else if (sel.sweep.empty() && (!sel.tag.empty() || !sel.runs.empty())) {
    *sweep = sel.tag.empty() ? "" : "tag:" + sel.tag;  // every run, then the tag and the ids choose
    runs = store::list_runs(db, "");
  } else {
    *sweep = resolve_sweep(db, sel.sweep);
    runs = store::list_runs(db, *sweep);
  }
  if (!sel.runs.empty()) keep_ids(runs, resolve_ids(runs, sel.runs, sweep->empty() ? "the database" : *sweep));
  if (!sel.tag.empty()) {
    const std::vector<std::string> tagged = store::tagged_run_ids(db, sel.tag);
    if (tagged.empty())
      throw bad_input("--tag " + sel.tag + ": no run or sweep carries this tag (hcx sweeps lists the tags)");
    keep_ids(runs, tagged);
  }
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

// Reads curves `names` of runs `ids`, calling `take` for each (on this
// thread). Curves are most of a report's rows (10 million for 1,000 runs ×
// 10,000 steps), so large selections are read by up to 4 threads, each with
// its own connection (WAL: readers never block one another).
void read_curves(const store::Db& db, const std::vector<std::string>& ids, const std::vector<std::string>& names,
                 const std::function<void(const std::string&, const std::string&, store::Curve&)>& take) {
  const size_t threads = ids.size() < 64 ? 1 : std::min<size_t>(4, std::max(1u, std::thread::hardware_concurrency()));
  using Result = std::vector<std::pair<std::string, std::map<std::string, store::Curve>>>;  // per name
  std::vector<Result> parts(threads);
  std::vector<std::exception_ptr> errors(threads);
  auto work = [&](size_t t, const store::Db& conn) {
    const size_t lo = ids.size() * t / threads, hi = ids.size() * (t + 1) / threads;
    const std::vector<std::string> chunk(ids.begin() + static_cast<std::ptrdiff_t>(lo),
                                        ids.begin() + static_cast<std::ptrdiff_t>(hi));
    for (const auto& name : names) parts[t].emplace_back(name, store::metric_curves(conn, name, chunk));
  };
  auto guarded = [&](size_t t) {
    try {
      work(t, store::open_bulk_reader(db));
    } catch (...) {
      errors[t] = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(guarded, t);
  guarded(0);
  for (auto& th : pool) th.join();
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  for (auto& part : parts) {
    for (auto& [name, curves] : part) {
      for (auto& [id, c] : curves) take(id, name, c);
    }
  }
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
  throw bad_input("--sweep " + sweep + ": no such sweep in " + db.path().string() +
                  util::did_you_mean(config::nearest(sweep, names)));
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
  for (auto& [id, p] : store::provenances(db, ids)) in.runs[index.at(id)].provenance = std::move(p);
  read_curves(db, ids, scope.curves, [&](const std::string& id, const std::string& name, store::Curve& c) {
    Curve& dst = in.runs[index.at(id)].curves[name];
    dst.steps = std::move(c.steps);
    dst.values = std::move(c.values);
  });
  for (const auto& s : store::read_spikes(db, ids)) {
    in.runs[index.at(s.run_id)].spikes.push_back({s.metric, s.step, s.value, s.score});
  }
  for (const auto& e : store::read_evals(db, ids)) {
    in.runs[index.at(e.run_id)].evals.push_back({e.step, e.task, e.metric, e.value});
  }
  if (!scope.diagnostics && !scope.matrices) return in;
  std::map<std::string, int64_t> last_step;
  const auto stats = scope.diagnostics ? store::read_layer_stats(db, ids) : std::vector<store::LayerStatRecord>{};
  for (const auto& s : stats) {
    auto [it, fresh] = last_step.emplace(s.run_id, s.step);
    if (!fresh && s.step > it->second) it->second = s.step;
  }
  for (const auto& s : stats) {
    if (s.step == last_step[s.run_id]) in.runs[index.at(s.run_id)].layer_stats.push_back({s.step, s.layer, s.name, s.value});
  }
  if (scope.matrices) {
    std::vector<size_t> all(in.runs.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    load_matrices(db, in, all);
  }
  return in;
}

void load_matrices(const store::Db& db, ReportInput& input, const std::vector<size_t>& indices) {
  std::vector<std::string> ids;
  std::map<std::string, size_t> index;
  for (size_t i : indices) {
    ids.push_back(input.runs.at(i).id);
    index[input.runs[i].id] = i;
  }
  if (ids.empty()) return;
  for (auto& m : store::read_hc_matrices(db, ids, /*last_step_only=*/true)) {
    input.runs[index.at(m.run_id)].matrices.push_back(
        {m.step, m.layer, m.sublayer, m.name, m.rows, m.cols, std::move(m.values)});
  }
}

}  // namespace hcx::report
