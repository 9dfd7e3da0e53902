// Runs -> Slurm tasks -> states; the status column; cancelling (see status.h).
#include "hcx/slurm/status.h"

#include <ostream>
#include <set>

#include <spdlog/spdlog.h>

#include "hcx/error.h"
#include "hcx/slurm/files.h"
#include "hcx/view/status.h"

namespace hcx::slurm {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> sweeps_under(const fs::path& results, const std::string& sweep) {
  if (!sweep.empty()) return {sweep};
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(results / "slurm", ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory()) names.push_back(it->path().filename().string());
  return names;
}

}  // namespace

std::map<std::string, RunTask> run_tasks(const fs::path& results, const std::string& sweep) {
  std::map<std::string, RunTask> tasks;
  for (const auto& name : sweeps_under(results, sweep)) {
    const fs::path dir = slurm_sweep_dir(results, name);
    for (const auto& sub : read_submissions(dir)) {  // oldest first: later submissions win
      Manifest m;
      try {
        m = read_manifest(manifest_path(dir, sub.number));
      } catch (const Error& e) {
        spdlog::warn("{}", e.what());
        continue;
      }
      for (const auto& r : m.runs) tasks[r.run_id] = RunTask{name, sub.number, {sub.job_id, r.index}, std::nullopt};
    }
  }
  return tasks;
}

void query_states(std::map<std::string, RunTask>& tasks) {
  std::vector<TaskKey> keys;
  for (const auto& [id, t] : tasks) keys.push_back(t.key);
  const TaskStates states = query_tasks(keys);
  for (auto& [id, t] : tasks) {
    const auto it = states.find(t.key);
    if (it != states.end()) t.state = it->second;
  }
}

std::map<std::string, std::string> active_runs(const fs::path& results, const std::string& sweep) {
  auto tasks = run_tasks(results, sweep);
  std::map<std::string, std::string> active;
  if (tasks.empty()) return active;
  query_states(tasks);
  for (const auto& [id, t] : tasks)
    if (t.state && is_active_state(t.state->state)) active[id] = t.key.text() + " " + t.state->state;
  return active;
}

std::string describe_task(const RunTask& t) {
  if (!t.state) return "unknown " + t.key.text();
  const TaskState& s = *t.state;
  std::string text = s.state + " " + t.key.text();
  if (!s.reason.empty() && s.state == "PENDING") text += " (" + s.reason + ")";
  if (s.state != "COMPLETED" && s.exit_code && *s.exit_code != 0) text += " exit " + std::to_string(*s.exit_code);
  if (s.signal) text += " signal " + std::to_string(s.signal);
  return text;
}

std::function<void(view::StatusReport&)> slurm_status_annotator(const std::string& db_path) {
  const fs::path db(db_path);
  const fs::path results = db.has_parent_path() ? db.parent_path() : fs::path(".");
  return [results](view::StatusReport& report) {
    auto tasks = run_tasks(results, report.sweep);
    std::set<std::string> shown;
    for (const auto& r : report.runs) shown.insert(r.id);
    for (auto it = tasks.begin(); it != tasks.end();) it = shown.count(it->first) ? std::next(it) : tasks.erase(it);
    if (tasks.empty()) return;
    try {
      query_states(tasks);
    } catch (const Error& e) {
      spdlog::warn("cannot ask Slurm where the runs stand: {}", e.what());
    }
    view::StatusColumn column{"slurm", {}};
    for (const auto& [id, t] : tasks) column.values[id] = describe_task(t);
    report.extra.push_back(std::move(column));
  };
}

int cancel_sweep(const fs::path& results, const std::string& sweep, std::ostream& out) {
  const fs::path dir = slurm_sweep_dir(results, sweep);
  auto tasks = run_tasks(results, sweep);
  if (tasks.empty()) {
    out << "sweep " << sweep << ": nothing was submitted to Slurm (no " << submissions_path(dir).string() << ")\n";
    return 0;
  }
  query_states(tasks);
  std::set<std::string> arrays;
  size_t n_tasks = 0;
  for (const auto& [id, t] : tasks)
    if (t.state && is_active_state(t.state->state)) {
      arrays.insert(t.key.array_job);
      ++n_tasks;
    }
  if (arrays.empty()) {
    out << "sweep " << sweep << ": no task is queued or running in Slurm; nothing to cancel\n";
    return 0;
  }
  const std::vector<std::string> ids(arrays.begin(), arrays.end());
  append_cancelled(dir, ids);  // first, so that no interrupted task requeues itself
  std::vector<std::string> argv = {"scancel"};
  argv.insert(argv.end(), ids.begin(), ids.end());
  const ToolResult r = run_tool(argv);
  if (r.exit_code != 0) throw io_error("scancel failed (exit " + std::to_string(r.exit_code) + "): " + r.err + r.out);
  std::string list;
  for (const auto& id : ids) list += (list.empty() ? "" : ", ") + id;
  out << "sweep " << sweep << ": cancelled Slurm job " << list << " (" << n_tasks
      << " tasks queued or running); running runs checkpoint and stop as interrupted, and the same\n"
      << "hcx sweep command submits them again (they resume from their checkpoints)\n";
  return 0;
}

}  // namespace hcx::slurm
