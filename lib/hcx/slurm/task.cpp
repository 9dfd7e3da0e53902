// One Slurm array task: run, forward signals, requeue (see task.h).
#include "hcx/slurm/task.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <spdlog/spdlog.h>

#include "hcx/error.h"
#include "hcx/exec/outcome.h"
#include "hcx/slurm/client.h"
#include "hcx/slurm/files.h"
#include "hcx/store/db.h"
#include "hcx/store/runs.h"
#include "hcx/store/shards.h"
#include "hcx/store/timestamp.h"
#include "hcx/util/process.h"

namespace hcx::slurm {
namespace {

namespace fs = std::filesystem;

volatile sig_atomic_t g_child = 0;       // the run's pid once started
volatile sig_atomic_t g_forwarded = 0;   // the last signal passed on to it

void on_signal(int sig) {
  g_forwarded = sig;
  if (g_child > 0) kill(static_cast<pid_t>(g_child), sig);
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

int64_t env_int(const char* name, int64_t fallback) {
  const std::string v = env(name);
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 18) return fallback;
  return std::stoll(v);
}

// argv and envp of the run, built before fork.
struct Child {
  std::vector<std::string> args, env;
  std::vector<char*> argv, envp;
  int log_fd = -1;
};

Child make_child(const SlurmTaskOptions& o, const Manifest& m, const std::string& run_id, const fs::path& log) {
  Child c;
  c.args = {o.hcx_binary.empty() ? util::self_executable() : o.hcx_binary, "run", "--run-id", run_id, "--shard",
            "--results", m.results, "--progress", "plain"};
  if (o.threads > 0) c.args.insert(c.args.end(), {"--threads", std::to_string(o.threads)});
  if (!o.device.empty()) c.args.insert(c.args.end(), {"--device", o.device});
  c.env = util::environ_with(util::training_env(o.threads));
  for (auto& a : c.args) c.argv.push_back(a.data());
  c.argv.push_back(nullptr);
  for (auto& e : c.env) c.envp.push_back(e.data());
  c.envp.push_back(nullptr);
  std::error_code ec;
  fs::create_directories(log.parent_path(), ec);
  c.log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (c.log_fd < 0) throw io_error(log.string() + ": cannot open the run's log: " + strerror(errno));
  return c;
}

// Starts the run with the forwarded signals blocked around fork, so that one
// arriving meanwhile is passed on as soon as the child's pid is known.
pid_t start_child(const Child& c) {
  sigset_t block, old;
  sigemptyset(&block);
  for (int sig : {SIGUSR1, SIGTERM, SIGINT}) sigaddset(&block, sig);
  sigprocmask(SIG_BLOCK, &block, &old);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // this task killed outright: the run still checkpoints
    if (getppid() != parent) _exit(143);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGUSR1, SIGTERM, SIGINT}) sigaction(sig, &dfl, nullptr);
    sigprocmask(SIG_SETMASK, &old, nullptr);
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, 0);
    dup2(c.log_fd, 1);
    dup2(c.log_fd, 2);
    execve(c.argv[0], c.argv.data(), c.envp.data());
    const char* msg = "hcx slurm-task: cannot execute hcx run\n";
    [[maybe_unused]] ssize_t n = write(2, msg, strlen(msg));
    _exit(127);
  }
  if (pid > 0) g_child = pid;
  sigprocmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) throw io_error(std::string("cannot start hcx run: ") + strerror(errno));
  return pid;
}

void append_line(int fd, const std::string& line) {
  [[maybe_unused]] ssize_t n = write(fd, line.data(), line.size());
}

}  // namespace

RequeueDecision decide_requeue(const RequeueFacts& f) {
  if (!f.interrupted) return RequeueDecision::kNotInterrupted;
  if (f.cancelled) return RequeueDecision::kCancelled;
  if (f.slurm_restarts && *f.slurm_restarts > f.restart_count) return RequeueDecision::kSlurmRequeues;
  if (f.restart_count >= f.max_requeues) return RequeueDecision::kLimitReached;
  return RequeueDecision::kRequeue;
}

std::string describe(RequeueDecision d, const RequeueFacts& f) {
  switch (d) {
    case RequeueDecision::kNotInterrupted: return "the run ended; nothing to requeue";
    case RequeueDecision::kRequeue:
      return "requeueing: attempt " + std::to_string(f.restart_count + 2) + " of at most " +
             std::to_string(f.max_requeues + 1) + " resumes from the checkpoint";
    case RequeueDecision::kCancelled: return "not requeued: the sweep was cancelled (hcx sweep --cancel)";
    case RequeueDecision::kSlurmRequeues: return "not requeued by hcx: Slurm is requeueing this job itself";
    case RequeueDecision::kLimitReached:
      return "not requeued: " + std::to_string(f.restart_count) + " requeues already (--max-requeues " +
             std::to_string(f.max_requeues) + "); run the sweep again to resume it";
  }
  return "";
}

int slurm_task_command(const SlurmTaskOptions& o) {
  const int64_t index = env_int("SLURM_ARRAY_TASK_ID", -1);
  if (index < 0)
    throw bad_input("hcx slurm-task: SLURM_ARRAY_TASK_ID is not set: this command is what "
                    "results/slurm/<sweep>/array-<n>.sh runs inside a Slurm array task");
  const Manifest m = read_manifest(o.manifest);
  const ManifestRun* run = m.find(index);
  if (!run)
    throw bad_input(o.manifest + ": manifest/run mismatch: no array index " + std::to_string(index) + " (it lists " +
                    std::to_string(m.runs.size()) + " runs, indices 0 to " + std::to_string(m.runs.size()) +
                    " - 1); submit the sweep with hcx sweep --executor slurm, not this script with another --array");
  // Only the run's own shard, never the main database (README "Slurm on a
  // shared filesystem"). Read-write: a hot journal that a killed attempt left
  // is rolled back here, where a read-only open would fail on it.
  const fs::path shard = store::shard_path(m.results, run->run_id);
  const std::string names = o.manifest + ": manifest/run mismatch: index " + std::to_string(index) + " names run " +
                            run->run_id + ", ";
  std::error_code ec;
  if (!fs::is_regular_file(shard, ec))
    throw bad_input(names + "whose shard " + shard.string() + " does not exist (hcx sweep --executor slurm writes " +
                    "it before submitting; were the results moved, or this script submitted by hand?)");
  if (!store::run_state(store::open_shard(shard), run->run_id))
    throw bad_input(names + "which its shard " + shard.string() + " does not hold (was the shard replaced?)");

  const std::string job_id = env("SLURM_JOB_ID");
  const std::string array_job = env("SLURM_ARRAY_JOB_ID");
  RequeueFacts facts;
  facts.restart_count = env_int("SLURM_RESTART_COUNT", 0);
  facts.max_requeues = o.max_requeues;
  const fs::path log = fs::path(m.results) / "logs" / (run->run_id + ".log");
  spdlog::info("task {}_{} (job {}), attempt {}, on {}: run {} ({}); its log: {}", array_job, index, job_id,
               facts.restart_count + 1, exec::this_host(), run->run_id, run->name, log.string());

  Child child = make_child(o, m, run->run_id, log);
  append_line(child.log_fd, "==== " + store::utc_iso() + " hcx slurm-task " + array_job + "_" + std::to_string(index) +
                                " (job " + job_id + ") attempt " + std::to_string(facts.restart_count + 1) + " on " +
                                exec::this_host() + "\n");
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGUSR1, SIGTERM, SIGINT}) sigaction(sig, &sa, nullptr);
  const pid_t pid = start_child(child);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  g_child = 0;
  const int forwarded = g_forwarded;
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  append_line(child.log_fd, "==== " + store::utc_iso() + " hcx slurm-task: run " +
                                (WIFEXITED(status) ? "exit " + std::to_string(code)
                                                   : "killed by signal " + std::to_string(WTERMSIG(status))) +
                                "\n");
  close(child.log_fd);
  if (forwarded) spdlog::info("passed signal {} ({}) on to the run", forwarded, strsignal(forwarded));

  // An early signal may kill the run before it installs its handlers: that
  // too is an interruption (it resumes from whatever checkpoint it has).
  facts.interrupted = code == 3 || (forwarded && WIFSIGNALED(status) && WTERMSIG(status) == forwarded);
  if (!facts.interrupted) {
    spdlog::info("run {} ended: exit {}", run->run_id, code);
    return code;
  }
  const auto cancelled = read_cancelled(fs::path(o.manifest).parent_path());
  facts.cancelled = std::find(cancelled.begin(), cancelled.end(), array_job) != cancelled.end();
  // This task as Slurm names it, <array job>_<index>: the last task of an
  // array often has SLURM_JOB_ID equal to the array's own id, and
  // `scontrol requeue <that id>` requeues every task of the array, killing
  // the others mid-run.
  const std::string task = !array_job.empty() ? array_job + "_" + std::to_string(index) : job_id;
  if (!job_id.empty() && !facts.cancelled) {
    try {
      const ToolResult show = run_tool({"scontrol", "show", "job", "-o", task});
      if (show.exit_code == 0) facts.slurm_restarts = parse_restarts(show.out);
    } catch (const Error& e) {
      spdlog::warn("{}", e.what());
    }
  }
  const RequeueDecision d = decide_requeue(facts);
  spdlog::info("run {} interrupted: {}", run->run_id, describe(d, facts));
  if (d == RequeueDecision::kRequeue) {
    if (job_id.empty()) {
      spdlog::error("SLURM_JOB_ID is not set: cannot requeue");
    } else {
      const ToolResult r = run_tool({"scontrol", "requeue", task});
      if (r.exit_code != 0)
        spdlog::error("scontrol requeue {} failed (exit {}): {}{}", task, r.exit_code, r.err, r.out);
    }
  }
  return 3;
}

}  // namespace hcx::slurm
