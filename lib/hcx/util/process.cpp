// A program run to completion through posix_spawn, its output read from one
// or two pipes with poll (process.h).
#include "hcx/util/process.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>

#include "hcx/error.h"

extern char** environ;

namespace hcx::util {
namespace {

// One pipe: [0] read by us, [1] the child's end.
struct Pipe {
  int fd[2] = {-1, -1};
  void close_read() {
    if (fd[0] >= 0) close(fd[0]);
    fd[0] = -1;
  }
  void close_write() {
    if (fd[1] >= 0) close(fd[1]);
    fd[1] = -1;
  }
};

// Reads what is there; false once the pipe is closed (end of file or error).
bool drain(int fd, std::string& into) {
  char buf[4096];
  const ssize_t n = read(fd, buf, sizeof buf);
  if (n > 0) {
    into.append(buf, static_cast<size_t>(n));
    return true;
  }
  return n < 0 && (errno == EINTR || errno == EAGAIN);
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv, StderrTo stderr_to) {
  if (argv.empty()) throw Error(ErrorKind::kIo, "cannot run an empty command");
  const bool separate = stderr_to == StderrTo::kSeparate;
  Pipe out, err;
  auto fail = [&](int code) {
    out.close_read();
    out.close_write();
    err.close_read();
    err.close_write();
    throw Error(ErrorKind::kIo, "cannot run " + argv[0] + ": " + std::strerror(code));
  };
  if (pipe2(out.fd, O_CLOEXEC) != 0) fail(errno);
  if (separate && pipe2(err.fd, O_CLOEXEC) != 0) fail(errno);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.fd[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, separate ? err.fd[1] : out.fd[1], STDERR_FILENO);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) fail(rc);
  out.close_write();
  err.close_write();

  ProcessResult r;
  bool out_open = true, err_open = separate;
  while (out_open || err_open) {
    pollfd fds[2] = {{out.fd[0], static_cast<short>(out_open ? POLLIN : 0), 0},
                     {err.fd[0], static_cast<short>(err_open ? POLLIN : 0), 0}};
    if (poll(fds, separate ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (out_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) out_open = drain(out.fd[0], r.out);
    if (err_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) err_open = drain(err.fd[0], r.err);
  }
  out.close_read();
  err.close_read();
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::string self_executable() {
  std::error_code ec;
  const std::filesystem::path p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw io_error("cannot find this program's path (/proc/self/exe): " + ec.message());
  return p.string();
}

EnvVars training_env(int threads) {
  EnvVars env;
  if (threads > 0)
    for (const char* name : {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"})
      env.emplace_back(name, std::to_string(threads));
  if (std::getenv("GOMP_SPINCOUNT") == nullptr && std::getenv("OMP_WAIT_POLICY") == nullptr)
    env.emplace_back("GOMP_SPINCOUNT", kGompSpinCount);
  if (std::getenv("OPENBLAS_THREAD_TIMEOUT") == nullptr)
    env.emplace_back("OPENBLAS_THREAD_TIMEOUT", kOpenblasThreadTimeout);
  return env;
}

std::vector<std::string> environ_with(const EnvVars& set) {
  std::set<std::string> names;
  for (const auto& [name, value] : set) names.insert(name);
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry = *e;
    if (names.count(entry.substr(0, entry.find('='))) == 0) env.push_back(entry);
  }
  for (const auto& [name, value] : set) env.push_back(name + "=" + value);
  return env;
}

void reexec_with_training_env(char** argv) {
  const EnvVars env = training_env(0);
  if (env.empty()) return;
  for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) execv(self.c_str(), argv);  // returns only on failure
}

}  // namespace hcx::util
