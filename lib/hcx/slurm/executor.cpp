// Submitting a sweep's array and following it (see executor.h).
#include "hcx/slurm/executor.h"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <memory>
#include <ostream>
#include <thread>

#include <spdlog/spdlog.h>

#include "hcx/error.h"
#include "hcx/exec/progress.h"
#include "hcx/slurm/client.h"
#include "hcx/store/db.h"
#include "hcx/store/runs.h"
#include "hcx/store/shards.h"
#include "hcx/store/timestamp.h"

namespace hcx::slurm {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

volatile sig_atomic_t g_stop = 0;
void on_stop(int sig) { g_stop = sig; }

// SIGINT/SIGTERM handlers for the time run() follows the array.
class StopScope {
 public:
  StopScope() {
    g_stop = 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopScope() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

fs::path absolute_path(const fs::path& p) {
  std::error_code ec;
  const fs::path a = fs::absolute(p, ec);
  return (ec ? p : a).lexically_normal();
}

// The first line of Slurm's complaint, without the "sbatch: error: " prefix noise kept.
std::string first_lines(const std::string& text, size_t n = 3) {
  std::string out;
  size_t start = 0;
  for (size_t i = 0; i < n && start < text.size(); ++i) {
    const size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!line.empty()) out += (out.empty() ? "" : " | ") + line;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

// A task's end as the coordinator's outcome rules (outcome.h) read it. The
// run's own terminal record, merged from its shard, is the truth; the Slurm
// state only speaks for a run that could not record its end.
exec::JobResult task_result(const TaskState& t, const std::optional<store::RunState>& row) {
  exec::JobResult r;
  if (row && row->pid) r.pid = static_cast<int>(*row->pid);
  const std::optional<RunStatus> status = row ? std::optional<RunStatus>(row->status) : std::nullopt;
  if (status == RunStatus::kCompleted) {
    r.exit_code = 0;
  } else if (status == RunStatus::kInterrupted) {
    r.exit_code = 3;
  } else if (status && is_failure(*status)) {
    r.exit_code = 1;
  } else if (t.state == "COMPLETED") {
    r.exit_code = 0;
  } else if (t.state == "CANCELLED" || t.state == "PREEMPTED" || t.state == "TIMEOUT" || t.state == "DEADLINE") {
    r.exit_code = 3;  // stopped from outside: resumes from its last checkpoint
  } else if (t.exit_code) {
    r.exit_code = *t.exit_code;
  } else {
    r.signal = t.signal ? t.signal : SIGKILL;  // NODE_FAIL, OUT_OF_MEMORY, BOOT_FAIL
  }
  return r;
}

}  // namespace

SlurmExecutor::SlurmExecutor(SlurmSetup setup) : setup_(std::move(setup)) {
  setup_.db = absolute_path(setup_.db);
  setup_.results = absolute_path(setup_.results);
  setup_.hcx = absolute_path(setup_.hcx).string();
}

SubmitResult SlurmExecutor::submit(const std::vector<exec::Job>& jobs) {
  if (jobs.empty()) throw bad_input("nothing to submit");
  if (find_tool("sbatch").empty())
    throw io_error("sbatch: not found on PATH; --executor slurm needs the Slurm client commands: run hcx on a "
                   "login node of the cluster (or load its Slurm module), or use --executor local");
  const fs::path dir = slurm_sweep_dir(setup_.results, setup_.sweep);
  std::error_code ec;
  fs::create_directories(dir / "logs", ec);
  if (ec) throw io_error((dir / "logs").string() + ": cannot create: " + ec.message());

  // The tasks read their configs from their shards and never open the main
  // database, which may be on this host's disk only: write them here.
  {
    store::Db main = store::open_db(setup_.db);
    for (const auto& job : jobs) store::prepare_shard(main, setup_.results, job.run_id);
  }

  SubmitResult s;
  s.submission.number = next_submission_number(dir);
  s.submission.runs = jobs.size();
  s.manifest = manifest_path(dir, s.submission.number);
  s.script = script_path(dir, s.submission.number);
  s.array = array_spec(jobs.size(), setup_.options.max_parallel);

  Manifest m{setup_.sweep, setup_.db.string(), setup_.results.string(), {}};
  for (size_t i = 0; i < jobs.size(); ++i)
    m.runs.push_back({static_cast<int64_t>(i), jobs[i].run_id, jobs[i].name});
  write_manifest(s.manifest, m);
  ScriptSpec spec{setup_.hcx, s.manifest.string(), absolute_path(fs::current_path()).string(), (dir / "logs").string(),
                  "hcx-" + setup_.sweep, setup_.options};
  const std::string script = array_script(spec);
  {
    std::ofstream out(s.script, std::ios::trunc);
    out << script;
    if (!out.flush()) throw io_error(s.script.string() + ": cannot write");
  }
  fs::permissions(s.script, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read, ec);

  std::vector<std::string> argv = {"sbatch", "--parsable", "--array=" + s.array};
  argv.insert(argv.end(), setup_.options.sbatch_args.begin(), setup_.options.sbatch_args.end());
  argv.push_back(s.script.string());
  const ToolResult r = run_tool(argv);
  s.submission.job_id = r.exit_code == 0 ? parse_sbatch_job_id(r.out) : "";
  if (s.submission.job_id.empty()) {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    throw io_error("Slurm refused the submission (" + cmd + ", exit " + std::to_string(r.exit_code) +
                   "): " + first_lines(r.err.empty() ? r.out : r.err));
  }
  s.submission.submitted_at = store::utc_iso();
  append_submission(dir, s.submission);
  return s;
}

exec::ExecSummary SlurmExecutor::run(const std::vector<exec::Job>& jobs, exec::ExecObserver& observer) {
  exec::ExecSummary sum;
  if (jobs.empty()) return sum;
  // Followers first: a resumed run's log holds earlier attempts.
  struct Track {
    std::unique_ptr<exec::LogFollower> log;
    bool started = false, done = false;
    Clock::time_point start;
    int unknown_polls = 0;
  };
  std::vector<Track> track(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    track[i].log = std::make_unique<exec::LogFollower>(setup_.results / "logs" / (jobs[i].run_id + ".log"));
    track[i].log->skip_to_end();
  }
  submitted_ = submit(jobs);
  spdlog::info("submitted Slurm job {} (array {}); following it (Ctrl-C stops following, not the job)",
               submitted_.submission.job_id, submitted_.array);

  StopScope stop_scope;
  store::Db db = store::open_db(setup_.db);
  const fs::path shards = setup_.results / "shards";
  const fs::path slurm_logs = slurm_sweep_dir(setup_.results, setup_.sweep) / "logs";
  std::vector<TaskKey> keys;
  for (size_t i = 0; i < jobs.size(); ++i) keys.push_back({submitted_.submission.job_id, static_cast<int64_t>(i)});
  const auto poll = std::chrono::duration<double>(setup_.options.poll_s);
  std::string last_error;
  while (sum.finished < jobs.size() && !g_stop) {
    TaskStates states;
    try {
      states = query_tasks(keys);
      last_error.clear();
    } catch (const Error& e) {
      if (e.what() != last_error) spdlog::warn("{} (retrying)", e.what());
      last_error = e.what();
    }
    try {
      store::collect(db, shards);
    } catch (const Error& e) {
      spdlog::warn("collect: {}", e.what());
    }
    for (size_t i = 0; i < jobs.size(); ++i) {
      Track& t = track[i];
      if (t.done) continue;
      const auto it = states.find(keys[i]);
      if (it == states.end()) {
        // Not known to any source: unknown yet, or forgotten. Give up after a while.
        if (last_error.empty() && ++t.unknown_polls > 30) {
          TaskState gone;
          gone.state = "UNKNOWN";
          gone.signal = SIGKILL;
          states[keys[i]] = gone;
        } else {
          continue;
        }
      }
      const TaskState& st = states[keys[i]];
      const std::string slot = "slurm " + keys[i].text() + (st.node.empty() ? "" : " on " + st.node);
      if (!t.started && (st.state == "RUNNING" || is_terminal_state(st.state) || st.state == "UNKNOWN")) {
        t.started = true;
        t.start = Clock::now();
        ++sum.started;
        observer.started(jobs[i], slot, 0);
      }
      if (t.started && t.log->poll() && t.log->latest()) observer.progress(jobs[i], *t.log->latest());
      if (is_terminal_state(st.state) || st.state == "UNKNOWN") {
        const auto row = store::run_state(db, jobs[i].run_id);
        exec::JobResult r = task_result(st, row);
        r.slot = slot;
        r.seconds = std::chrono::duration<double>(Clock::now() - t.start).count();
        const bool recorded = row && row->status != RunStatus::kRunning && row->status != RunStatus::kPending;
        exec::Job job = jobs[i];
        if (!recorded) job.log_path = slurm_logs / (keys[i].text() + ".out");  // hcx slurm-task's own complaint
        observer.finished(job, r);
        t.done = true;
        ++sum.finished;
      }
    }
    observer.tick();
    const auto until = Clock::now() + poll;
    while (sum.finished < jobs.size() && !g_stop && Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      observer.tick();
    }
  }
  if (g_stop) {
    sum.stop_signal = g_stop;
    sum.not_started = jobs.size() - sum.finished;
  }
  return sum;
}

int submit_sweep(SlurmExecutor& slurm, const std::vector<exec::Job>& jobs, std::ostream& out) {
  if (jobs.empty()) {
    out << "Nothing to submit: every run of the sweep is done, failed (--retry-failed), or queued in Slurm\n";
    return 0;
  }
  const SubmitResult s = slurm.submit(jobs);
  out << "Submitted Slurm job " << s.submission.job_id << ": " << jobs.size() << " runs (array " << s.array << ")\n"
      << std::flush;
  spdlog::info("script {}, manifest {}; Slurm's logs in {}/logs, the runs' in {}", s.script.string(),
               s.manifest.filename().string(), s.script.parent_path().string(),
               (s.script.parent_path().parent_path().parent_path() / "logs").string());
  spdlog::info("follow it with hcx status; hcx collect (or status, report) merges the results");
  return 0;
}

}  // namespace hcx::slurm
