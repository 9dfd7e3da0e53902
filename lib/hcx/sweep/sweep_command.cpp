// The sweep coordinator (see sweep_command.h): grid -> plan -> database -> executor
// -> summary. The executor runs the children; this file turns their events
// into rows and a display.
#include "hcx/sweep/sweep_command.h"

#include <unistd.h>

#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include <spdlog/spdlog.h>

#include "hcx/error.h"
#include "hcx/exec/devices.h"
#include "hcx/exec/local_executor.h"
#include "hcx/exec/outcome.h"
#include "hcx/exec/progress.h"
#include "hcx/grid/expand.h"
#include "hcx/grid/identity.h"
#include "hcx/model/inspect.h"
#include "hcx/slurm/executor.h"
#include "hcx/slurm/status.h"
#include "hcx/store/db.h"
#include "hcx/store/runs.h"
#include "hcx/store/shards.h"
#include "hcx/sweep/display.h"
#include "hcx/sweep/provenance.h"
#include "hcx/terminal.h"
#include "hcx/util/process.h"
#include "hcx/util/text.h"
#include "hcx/version.h"

namespace hcx::sweep {
namespace {

namespace fs = std::filesystem;

// "DHC×2 seed=1": the variant plus the distinguishing keys it does not say.
std::string job_name(const grid::ExpandedRun& run, const std::vector<std::string>& varying) {
  std::string name = run.variant;
  for (const auto& [key, value] : run.point) {
    if (key.rfind("residual.", 0) == 0) continue;
    if (std::find(varying.begin(), varying.end(), key) == varying.end()) continue;
    name += " " + key + "=" + (value.is_string() ? value.get<std::string>() : value.dump());
  }
  return name;
}

grid::StatusLookup db_lookup(const store::Db* db, const std::string& host) {
  return [db, host](const std::string& id) -> std::optional<grid::StoredRun> {
    if (!db) return std::nullopt;
    const auto row = store::run_state(*db, id);
    if (!row) return std::nullopt;
    grid::StoredRun s;
    s.status = row->status;
    s.step = row->step;
    s.alive = row->status != RunStatus::kRunning || exec::running_row_alive(*row, host);
    return s;
  };
}

// Slurm: a run whose task of an earlier submission is still queued or running
// there is running elsewhere, whatever its row says.
grid::StatusLookup with_slurm_queue(grid::StatusLookup lookup, const std::map<std::string, std::string>& in_slurm) {
  return [lookup, in_slurm](const std::string& id) -> std::optional<grid::StoredRun> {
    auto stored = lookup(id);
    if (!in_slurm.count(id)) return stored;
    grid::StoredRun s = stored.value_or(grid::StoredRun{});
    s.status = RunStatus::kRunning;
    s.alive = true;
    return s;
  };
}

// The threads per run the runs ask for (train.threads), when they agree and
// differ from the default; 0 otherwise.
int requested_threads(const grid::Expansion& ex) {
  const int64_t default_threads = config::TrainConfig{}.threads;
  int64_t t = -1;
  for (const auto& run : ex.runs) {
    if (t >= 0 && run.config.train.threads != t) return 0;
    t = run.config.train.threads;
  }
  return t > 0 && t != default_threads && t <= INT_MAX ? static_cast<int>(t) : 0;
}

std::string fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// Records outcomes in the database and feeds the display.
class Monitor : public exec::ExecObserver {
 public:
  Monitor(store::Db& db, SweepDisplay& display) : db_(db), display_(display) {}

  void started(const exec::Job& job, const std::string& slot, int) override { display_.started(job, slot); }
  void progress(const exec::Job& job, const exec::Progress& p) override { display_.progress(job, p); }
  void tick() override { display_.refresh(); }
  void stopping(int signal) override {
    display_.note(std::string("received ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") +
                  ": stopping the running runs (they checkpoint and resume next time); again to kill them");
  }

  void finished(const exec::Job& job, const exec::JobResult& r) override {
    std::optional<store::RunState> row;
    try {
      row = store::run_state(db_, job.run_id);
    } catch (const Error& e) {
      spdlog::error("{}", e.what());
    }
    const exec::Outcome o = exec::decide_outcome(r, row, exec::log_tail(job.log_path));
    if (o.write) {
      try {
        store::finish_run(db_, job.run_id, o.status, o.error);
      } catch (const Error& e) {
        spdlog::error("{}: cannot record status {}: {}", job.run_id, to_string(o.status), e.what());
      }
    }
    std::string detail;
    if (o.status == RunStatus::kCompleted) {
      if (row && row->last_loss) detail = "loss " + fixed(*row->last_loss, 4);
    } else if (o.status == RunStatus::kRunning) {
      detail = "another process holds this run";
    } else if (o.status == RunStatus::kInterrupted) {
      detail = "at step " + std::to_string(row ? row->step : 0) + "/" + std::to_string(job.total_steps) +
               "; resumes on the next invocation";
    } else {
      std::string why = o.write ? o.error : (row ? row->error : "");
      if (why.empty()) why = exec::describe_exit(r);
      detail = why.substr(0, why.find('\n')) + "; log: " + job.log_path.string();
    }
    seconds_[job.run_id] = r.seconds;
    display_.finished(job, o.status, r.seconds, detail);
  }

  const std::map<std::string, double>& seconds() const { return seconds_; }

 private:
  store::Db& db_;
  SweepDisplay& display_;
  std::map<std::string, double> seconds_;
};

// The closing table on stdout, from the database; returns whether any run
// of the grid failed or diverged.
// Training FLOPs per token for the plan's estimate: the model's analytic
// forward count (model/inspect.h), x3 for the backward.
double training_flops(const config::RunConfig& c) { return 3.0 * model::compute_stats(c).flops_per_token; }

bool print_summary(const store::Db& db, const grid::Expansion& ex, const std::map<std::string, double>& seconds,
                   double wall_s) {
  std::vector<std::vector<std::string>> rows = {{"#", "id", "variant", "status", "steps", "loss", "time"}};
  std::map<std::string, size_t> counts;
  for (size_t i = 0; i < ex.runs.size(); ++i) {
    const auto& run = ex.runs[i];
    const auto s = store::run_state(db, run.id);
    const std::string status = s ? to_string(s->status) : "missing";
    ++counts[status];
    auto t = seconds.find(run.id);
    rows.push_back({std::to_string(i + 1), run.id, job_name(run, ex.varying_keys), status,
                    (s ? std::to_string(s->step) : "0") + "/" + std::to_string(run.config.train.steps),
                    s && s->last_loss ? fixed(*s->last_loss, 4) : "-",
                    t == seconds.end() ? "-" : format_duration(t->second)});
  }
  const std::vector<size_t> widths = util::column_widths(rows);
  const std::vector<bool> right = {true, false, false, false, true, true, true};  // #, steps, loss, time
  std::string out = "\nsweep " + ex.name + ": " + std::to_string(ex.runs.size()) + " runs";
  for (const auto& [status, n] : counts) out += ", " + std::to_string(n) + " " + status;
  out += " (" + format_duration(wall_s) + ")\n";
  for (const auto& r : rows) out += util::aligned_line(r, widths, right) + "\n";
  std::cout << out << std::flush;
  return counts[to_string(RunStatus::kFailed)] + counts[to_string(RunStatus::kDiverged)] > 0;
}

}  // namespace

int sweep_command(const SweepOptions& o) {
  // 1. The whole grid, validated, before anything is written.
  grid::ExperimentSpec spec = grid::load_experiment(o.experiment, o.overrides);
  if (!o.name.empty()) {
    if (o.name.size() > 200 || o.name.find_first_of("/\\ \t\n") != std::string::npos)
      throw bad_input("--name \"" + o.name + "\": a sweep name is at most 200 characters, without '/' or blanks");
    spec.name = o.name;
  }
  const grid::Expansion ex = grid::expand(spec);
  store::check_tags(o.tags);
  const bool slurm = o.executor == "slurm";
  if (slurm) slurm::validate(o.slurm);
  if (o.executor != "local" && !slurm) throw bad_input("--executor: expected local or slurm, got \"" + o.executor + "\"");
  if (o.format != "table" && o.format != "json")
    throw bad_input("--format: expected table or json, got \"" + o.format + "\"");
  const fs::path db_path = o.db_path;
  const fs::path results = !o.results_dir.empty()             ? fs::path(o.results_dir)
                           : db_path.has_parent_path()        ? db_path.parent_path()
                                                              : fs::path(".");
  const std::string host = exec::this_host();
  if (slurm && o.slurm.cancel) return slurm::cancel_sweep(results, ex.name, std::cout);
  if (slurm && o.retrain_stale)
    throw bad_input("--retrain-stale: not supported with --executor slurm yet (a task's shard keeps the old run); "
                    "retrain locally, or hcx run --run-id ID --fresh for each stale run");
  check_sweep_inputs(ex, o.experiment);
  const grid::PlanOptions plan_opts = plan_options(o.retry_failed, o.retrain_stale, training_flops);
  // Slurm: runs still queued or running from an earlier submission (run id -> "123_4 PENDING").
  const std::map<std::string, std::string> in_slurm =
      slurm ? slurm::active_runs(results, ex.name) : std::map<std::string, std::string>{};

  // 2. Dry run: read only.
  if (o.dry_run) {
    std::optional<store::Db> db;
    if (fs::exists(db_path)) db = store::open_db(db_path, store::OpenMode::kReadOnly);
    const store::Db* dbp = db ? &*db : nullptr;
    const grid::Plan plan =
        grid::make_plan(ex, with_provenance(with_slurm_queue(db_lookup(dbp, host), in_slurm), dbp), plan_opts);
    if (o.format == "json") {
      std::cout << grid::plan_json(ex, plan).dump(2) << "\n";
    } else {
      std::cout << grid::render_plan(ex, plan, color_allowed(STDOUT_FILENO));
    }
    return 0;
  }

  exec::SlotRequest req;
  req.devices = o.devices;
  req.jobs = o.jobs;
  req.threads = o.threads > 0 ? o.threads : requested_threads(ex);
  const std::vector<exec::Slot> slots =
      slurm ? std::vector<exec::Slot>{} : exec::plan_slots(req, exec::visible_cuda_devices(), exec::usable_cpus());
  const std::string hcx = o.hcx_binary.empty() ? util::self_executable() : o.hcx_binary;
  if (access(hcx.c_str(), X_OK) != 0) throw io_error(hcx + ": not an executable (the hcx binary for the runs)");

  // 3. Register and plan.
  store::Db db = store::open_db(db_path);
  if (slurm) store::collect(db, results / "shards");  // what the cluster's tasks recorded so far
  const int64_t sweep_id = store::register_sweep(db, ex.name, ex.spec_json.dump(), kVersion);
  std::vector<store::RunEntry> entries;
  for (const auto& run : ex.runs) entries.push_back({run.id, grid::normalized(run.config)});
  store::register_runs(db, sweep_id, entries);
  store::tag_sweep(db, sweep_id, o.tags, o.note);
  const grid::Plan plan =
      grid::make_plan(ex, with_provenance(with_slurm_queue(db_lookup(&db, host), in_slurm), &db), plan_opts);

  std::vector<exec::Job> jobs;
  for (const auto& p : plan.runs) {
    const auto& run = ex.runs[p.index];
    if (p.action == grid::PlanAction::kResume && p.status == RunStatus::kRunning) {
      const auto row = store::run_state(db, run.id);
      store::finish_run(db, run.id, RunStatus::kInterrupted,
                        "taken over: its process" + (row && row->pid ? " " + std::to_string(*row->pid) : "") +
                            (row && !row->host.empty() ? " on " + row->host : "") + " is gone");
    } else if (p.action == grid::PlanAction::kRetry) {
      store::requeue_run(db, run.id);
    }
    if (!p.trains()) continue;
    exec::Job job;
    job.run_id = run.id;
    job.name = job_name(run, ex.varying_keys);
    job.command = {hcx, "run", "--run-id", run.id, "--db", db_path.string(), "--results", results.string()};
    if (p.action == grid::PlanAction::kRetrain) job.command.push_back("--fresh");  // a new checkpoint, new rows
    job.log_path = results / "logs" / (run.id + ".log");
    job.total_steps = run.config.train.steps;
    job.heartbeat_age = [&db, id = run.id](int pid) -> std::optional<double> {
      const auto row = store::run_state(db, id);
      if (!row || row->status != RunStatus::kRunning || row->pid != pid) return std::nullopt;  // not claimed by it yet
      return row->heartbeat_age_s;
    };
    jobs.push_back(std::move(job));
  }
  std::string counts = std::to_string(plan.n_new) + " new, " + std::to_string(plan.n_resume) + " to resume";
  if (plan.n_retry) counts += ", " + std::to_string(plan.n_retry) + " to retry";
  counts += ", " + std::to_string(plan.n_done) + " done";
  if (plan.n_failed) counts += ", " + std::to_string(plan.n_failed) + " failed (skipped; --retry-failed)";
  if (plan.n_running) counts += ", " + std::to_string(plan.n_running) + (slurm ? " queued or running" : " running elsewhere");
  if (plan.n_retrain) counts += ", " + std::to_string(plan.n_retrain) + " stale to retrain from step 0";
  if (plan.n_stale > plan.n_retrain) counts += ", " + std::to_string(plan.n_stale) + " stale (skipped; --retrain-stale)";
  spdlog::info("sweep {}: {} runs: {}", ex.name, ex.runs.size(), counts);
  for (const auto& line : grid::stale_lines(ex, plan)) spdlog::warn("stale: {}", line);
  if (!jobs.empty()) {
    std::string work = grid::human_count(static_cast<double>(plan.tokens_left)) + " tokens";
    if (plan.flops_left > 0) work += ", " + grid::human_count(plan.flops_left) + "FLOP";
    spdlog::info("training {} runs ({}) on {}; logs in {}", jobs.size(), work,
                 slurm ? "Slurm (one array task each)" : exec::describe_slots(slots), (results / "logs").string());
  }

  // 4. Run.
  std::unique_ptr<exec::Executor> executor;
  if (slurm) {
    auto s = std::make_unique<slurm::SlurmExecutor>(slurm::SlurmSetup{ex.name, db_path, results, hcx, o.slurm});
    if (!o.slurm.wait) return slurm::submit_sweep(*s, jobs, std::cout);  // fire and forget
    executor = std::move(s);
  } else {
    exec::LocalOptions lo;
    lo.heartbeat_timeout_s = o.heartbeat_timeout_s;
    executor = std::make_unique<exec::LocalExecutor>(slots, lo);
  }
  const auto begin = std::chrono::steady_clock::now();
  SweepDisplay display(ex.name, jobs.size(), detect_display());
  Monitor monitor(db, display);
  const exec::ExecSummary summary = executor->run(jobs, monitor);
  display.close();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  const bool any_failed = print_summary(db, ex, monitor.seconds(), wall);
  if (summary.stop_signal && slurm) {
    spdlog::warn("stopped following sweep {} ({}); its Slurm array runs on: hcx status --sweep {} shows where it stands",
                 ex.name, summary.stop_signal == SIGINT ? "SIGINT" : "SIGTERM", ex.name);
    return 128 + summary.stop_signal;
  }
  if (summary.stop_signal) {
    spdlog::warn("sweep {} stopped by {} ({} runs not started): run the same command again to resume it", ex.name,
                 summary.stop_signal == SIGINT ? "SIGINT" : "SIGTERM", summary.not_started);
    return 128 + summary.stop_signal;
  }
  if (any_failed) spdlog::warn("sweep {}: some runs failed or diverged; see the logs above", ex.name);
  return any_failed ? 1 : 0;
}

}  // namespace hcx::sweep
