// Child processes on local slots (contract in local_executor.h). One thread:
// a self-pipe wakes the loop on SIGCHLD, SIGINT and SIGTERM; between wake-ups
// it polls the running jobs' logs for progress every refresh interval.
#include "hcx/exec/local_executor.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <deque>
#include <map>
#include <memory>

#include "hcx/exec/progress.h"
#include "hcx/util/process.h"

namespace hcx::exec {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

// Signal state shared with the handlers (one run() at a time).
int g_wake_fd = -1;                       // write end of the self-pipe
volatile sig_atomic_t g_stop_signal = 0;  // first SIGINT/SIGTERM seen
volatile sig_atomic_t g_stop_count = 0;   // requests so far

void wake() {
  const int fd = g_wake_fd;
  if (fd >= 0) {
    const char b = 1;
    [[maybe_unused]] ssize_t n = write(fd, &b, 1);
  }
}

void on_stop_signal(int sig) {
  const int saved = errno;
  if (g_stop_signal == 0) g_stop_signal = sig;
  g_stop_count = g_stop_count + 1;
  wake();
  errno = saved;
}

void on_child(int) {
  const int saved = errno;
  wake();
  errno = saved;
}

// Installs handlers for the duration of run() and restores the old ones.
class SignalScope {
 public:
  explicit SignalScope(bool stop_signals) : stop_signals_(stop_signals) {
    install(SIGCHLD, on_child, &old_chld_);
    if (stop_signals_) {
      install(SIGINT, on_stop_signal, &old_int_);
      install(SIGTERM, on_stop_signal, &old_term_);
    }
  }
  ~SignalScope() {
    sigaction(SIGCHLD, &old_chld_, nullptr);
    if (stop_signals_) {
      sigaction(SIGINT, &old_int_, nullptr);
      sigaction(SIGTERM, &old_term_, nullptr);
    }
  }

 private:
  static void install(int sig, void (*fn)(int), struct sigaction* old) {
    struct sigaction sa {};
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART | (sig == SIGCHLD ? SA_NOCLDSTOP : 0);
    sigaction(sig, &sa, old);
  }
  bool stop_signals_;
  struct sigaction old_chld_ {}, old_int_ {}, old_term_ {};
};

// UTC with milliseconds, like the database's timestamps.
std::string now_text() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const long ms = static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03ldZ", ms);
  return buf;
}

// The log's closing line of an attempt: "==== <time> hcx sweep: exit 0 after 3.412 s".
void append_footer(const fs::path& log, const JobResult& r) {
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.3f", r.seconds);
  const std::string how = r.signal ? "killed by signal " + std::to_string(r.signal) : "exit " + std::to_string(r.exit_code);
  const std::string line = "==== " + now_text() + " hcx sweep: " + how + " after " + secs + " s\n";
  const int fd = open(log.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return;
  [[maybe_unused]] ssize_t n = write(fd, line.data(), line.size());
  close(fd);
}

// argv and envp for execve, built before fork (no allocation in the child).
struct ChildSpec {
  std::vector<std::string> args, env;
  std::vector<char*> argv, envp;
  std::vector<int> cpus;
  int log_fd = -1;

  void finish() {
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
  }
};

ChildSpec child_spec(const Job& job, const Slot& slot) {
  ChildSpec c;
  c.args = job.command;
  c.args.insert(c.args.end(), {"--device", slot.device, "--threads", std::to_string(slot.threads)});
  util::EnvVars env = util::training_env(slot.threads);
  env.emplace_back("CUDA_VISIBLE_DEVICES", slot.cuda_visible);
  c.env = util::environ_with(env);
  c.cpus = slot.cpus;
  c.finish();
  return c;
}

// In the child, between fork and exec: async-signal-safe calls only.
[[noreturn]] void exec_child(const ChildSpec& c, pid_t parent) {
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) _exit(143);  // the sweep died before prctl
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig : {SIGINT, SIGTERM, SIGCHLD, SIGPIPE, SIGHUP}) sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  const int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd >= 0) dup2(null_fd, 0);
  dup2(c.log_fd, 1);
  dup2(c.log_fd, 2);
  if (!c.cpus.empty()) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int cpu : c.cpus) CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
  }
  execve(c.argv[0], c.argv.data(), c.envp.data());
  const char* msg = "hcx sweep: cannot execute ";
  [[maybe_unused]] ssize_t n = write(2, msg, strlen(msg));
  n = write(2, c.argv[0], strlen(c.argv[0]));
  const char* why = errno == ENOENT ? ": no such file\n" : errno == EACCES ? ": permission denied\n" : ": exec failed\n";
  n = write(2, why, strlen(why));
  _exit(127);
}

struct Running {
  size_t job = 0;
  size_t slot = 0;
  Clock::time_point start;
  std::unique_ptr<LogFollower> log;
  bool stop_sent = false, kill_sent = false;
  double stalled_s = 0;  // > 0: killed for a heartbeat this old
};

void signal_group(pid_t pid, int sig) {
  if (kill(-pid, sig) != 0) kill(pid, sig);
}

// One LocalExecutor::run: the queue of jobs, the slots they hold and the
// children running. Each turn of run() starts jobs on free slots, waits for
// a child, a signal or the refresh interval, forwards stop requests, kills
// hung children, reaps the ended ones and reports progress.
class RunLoop {
 public:
  RunLoop(const std::vector<Job>& jobs, const std::vector<Slot>& slots, const LocalOptions& opts,
          ExecObserver& observer, int wake_fd)
      : jobs_(jobs),
        slots_(slots),
        opts_(opts),
        observer_(observer),
        wake_fd_(wake_fd),
        slot_busy_(slots.size(), false) {
    for (size_t i = 0; i < jobs.size(); ++i) queue_.push_back(i);
  }

  ExecSummary run() {
    for (;;) {
      if (g_stop_signal == 0) start_on_free_slots();
      if (running_.empty() && (queue_.empty() || g_stop_signal != 0)) break;
      wait_for_event();
      forward_stop_requests();
      kill_hung_children();
      reap_ended_children();
      report_progress();
    }
    summary_.not_started = queue_.size();
    if (summary_.stop_signal == 0 && g_stop_signal != 0) summary_.stop_signal = g_stop_signal;
    return summary_;
  }

 private:
  void start_on_free_slots() {
    while (!queue_.empty()) {
      size_t slot = 0;
      while (slot < slots_.size() && slot_busy_[slot]) ++slot;
      if (slot == slots_.size()) return;
      const size_t j = queue_.front();
      queue_.pop_front();
      start(j, slot);
    }
  }

  // Starts job `j` on `slot`, or reports it finished with exit code 127 when
  // its log cannot be opened or fork fails.
  void start(size_t j, size_t slot) {
    const Job& job = jobs_[j];
    const Slot& s = slots_[slot];
    JobResult failed_start;
    failed_start.slot = s.display;
    failed_start.exit_code = 127;

    std::error_code ec;
    if (job.log_path.has_parent_path()) std::filesystem::create_directories(job.log_path.parent_path(), ec);
    ChildSpec spec = child_spec(job, s);
    spec.log_fd = open(job.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (spec.log_fd < 0) {
      failed_start.spawn_error = job.log_path.string() + ": " + std::strerror(errno);
      ++summary_.started;
      ++summary_.finished;
      observer_.finished(job, failed_start);
      return;
    }
    std::string header = "==== " + now_text() + " hcx sweep: start on " + s.display + ":";
    for (const auto& a : spec.args) header += " " + a;
    header += "\n";
    [[maybe_unused]] ssize_t n = write(spec.log_fd, header.data(), header.size());
    auto log = std::make_unique<LogFollower>(job.log_path);
    log->skip_to_end();

    const pid_t pid = fork();
    if (pid == 0) exec_child(spec, self_);
    close(spec.log_fd);
    if (pid < 0) {
      failed_start.spawn_error = std::string("fork: ") + std::strerror(errno);
      ++summary_.started;
      ++summary_.finished;
      observer_.finished(job, failed_start);
      return;
    }
    setpgid(pid, pid);  // also here, so signal_group() works before the child ran
    slot_busy_[slot] = true;
    running_[pid] = Running{j, slot, Clock::now(), std::move(log)};
    ++summary_.started;
    observer_.started(job, s.display, static_cast<int>(pid));
  }

  // Until a child ends, a signal arrives (both write to the wake pipe) or the
  // refresh interval passes.
  void wait_for_event() {
    if (wake_fd_ >= 0) {
      struct pollfd pfd {
        wake_fd_, POLLIN, 0
      };
      poll(&pfd, 1, opts_.refresh_ms);
      char buf[64];
      while (read(wake_fd_, buf, sizeof buf) > 0) {
      }
    } else {
      usleep(static_cast<useconds_t>(opts_.refresh_ms) * 1000);
    }
  }

  // The first stop signal: SIGTERM to every child (they checkpoint and stop);
  // a second one: SIGKILL.
  void forward_stop_requests() {
    if (g_stop_signal != 0 && summary_.stop_signal == 0) {
      summary_.stop_signal = g_stop_signal;
      for (auto& [pid, r] : running_) {
        signal_group(pid, SIGTERM);
        r.stop_sent = true;
      }
      observer_.stopping(summary_.stop_signal);
    }
    if (g_stop_count >= 2 && !kills_sent_) {
      kills_sent_ = true;
      for (auto& [pid, r] : running_) {
        signal_group(pid, SIGKILL);
        r.kill_sent = true;
      }
    }
  }

  // SIGKILL to a child whose heartbeat is older than the timeout (hung).
  void kill_hung_children() {
    if (opts_.heartbeat_timeout_s <= 0 ||
        Clock::now() - last_heartbeat_check_ < std::chrono::milliseconds(opts_.heartbeat_check_ms))
      return;
    last_heartbeat_check_ = Clock::now();
    for (auto& [pid, r] : running_) {
      const Job& job = jobs_[r.job];
      if (r.stalled_s > 0 || r.kill_sent || !job.heartbeat_age) continue;
      const std::optional<double> age = job.heartbeat_age(static_cast<int>(pid));
      if (!age || *age <= opts_.heartbeat_timeout_s) continue;
      r.stalled_s = *age;
      signal_group(pid, SIGKILL);
    }
  }

  void reap_ended_children() {
    for (auto it = running_.begin(); it != running_.end();) {
      int status = 0;
      const pid_t got = waitpid(it->first, &status, WNOHANG);
      if (got != it->first) {
        ++it;
        continue;
      }
      Running& r = it->second;
      r.log->poll();
      if (r.log->latest()) observer_.progress(jobs_[r.job], *r.log->latest());
      JobResult result;
      result.slot = slots_[r.slot].display;
      result.pid = static_cast<int>(it->first);
      result.stop_sent = r.stop_sent;
      result.kill_sent = r.kill_sent;
      result.stalled_s = r.stalled_s;
      result.seconds = std::chrono::duration<double>(Clock::now() - r.start).count();
      if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
      if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
      slot_busy_[r.slot] = false;
      const size_t j = r.job;
      append_footer(jobs_[j].log_path, result);
      it = running_.erase(it);
      ++summary_.finished;
      observer_.finished(jobs_[j], result);
    }
  }

  // New progress lines of the running children, and the display's tick.
  void report_progress() {
    for (auto& [pid, r] : running_)
      if (r.log->poll()) observer_.progress(jobs_[r.job], *r.log->latest());
    const auto now = Clock::now();
    if (now - last_tick_ >= std::chrono::milliseconds(opts_.refresh_ms)) {
      last_tick_ = now;
      observer_.tick();
    }
  }

  const std::vector<Job>& jobs_;
  const std::vector<Slot>& slots_;
  const LocalOptions& opts_;
  ExecObserver& observer_;
  const int wake_fd_;  // read end of the wake pipe; -1: poll by sleeping
  const pid_t self_ = getpid();
  ExecSummary summary_;
  std::deque<size_t> queue_;
  std::vector<bool> slot_busy_;
  std::map<pid_t, Running> running_;
  bool kills_sent_ = false;
  Clock::time_point last_tick_ = Clock::now();
  Clock::time_point last_heartbeat_check_ = Clock::now();
};

}  // namespace

LocalExecutor::LocalExecutor(std::vector<Slot> slots, LocalOptions opts) : slots_(std::move(slots)), opts_(opts) {
  if (slots_.empty()) slots_.push_back(Slot{});
}

void LocalExecutor::request_stop(int signal) { on_stop_signal(signal); }

ExecSummary LocalExecutor::run(const std::vector<Job>& jobs, ExecObserver& observer) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) pipe_fds[0] = pipe_fds[1] = -1;
  g_wake_fd = pipe_fds[1];
  g_stop_signal = 0;
  g_stop_count = 0;
  ExecSummary summary;
  {
    SignalScope signals(opts_.handle_signals);
    summary = RunLoop(jobs, slots_, opts_, observer, pipe_fds[0]).run();
  }
  g_wake_fd = -1;
  if (pipe_fds[0] >= 0) {
    close(pipe_fds[0]);
    close(pipe_fds[1]);
  }
  return summary;
}

}  // namespace hcx::exec
