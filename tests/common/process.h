// Child processes in the tests: run a shell command and capture what it
// prints, start a program in the background with its output in a log file,
// wait for a child's exit code (with or without a time limit), and poll a
// condition until it holds. The one home of these for every suite; a fork
// whose child runs test code (a writer that dies mid-transaction) stays in
// its test.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace hcx::test {

// The exit code a shell would report for the wait status `status`: the
// child's exit status, or 128 + the signal that ended it.
inline int exit_code_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

// What a command did: its exit code and what it printed.
struct Result {
  int code = -1;       // exit status, or 128 + signal; -1 when it could not be started
  std::string output;  // its stdout (and stderr where the command line says 2>&1)
};

// Runs the shell command line `cmd` (/bin/sh -c, through popen) and waits for
// it. Only stdout is captured: add "2>&1" to `cmd` for stderr too.
inline Result capture(const std::string& cmd) {
  Result r;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  r.code = exit_code_of(::pclose(pipe));
  return r;
}

// Starts `argv` (argv[0] a path, or a name looked up on PATH) as a child in
// the folder `cwd`, with stdout and stderr in the file `log` (truncated;
// relative to `cwd`), or this process's own when `log` is "". Returns at once
// with the child's pid; a child that cannot start exits 127. The caller reaps
// it (wait_exit).
inline pid_t spawn(const std::vector<std::string>& argv, const std::string& log = "", const std::string& cwd = ".") {
  std::vector<char*> args;  // built before the fork: the child only calls async-signal-safe functions
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::chdir(cwd.c_str()) != 0) ::_exit(127);
    if (!log.empty()) {
      FILE* f = std::fopen(log.c_str(), "w");
      if (f == nullptr) ::_exit(127);
      ::dup2(::fileno(f), 1);
      ::dup2(::fileno(f), 2);
    }
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

// Waits for the child `pid` to end; returns its exit code (exit_code_of), or
// -1 when `pid` is not a child of this process.
inline int wait_exit(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return exit_code_of(status);
}

// Polls `pred` every `interval_ms` for up to `timeout_s` seconds; true as
// soon as it holds, else what a last call returns at the deadline.
template <class Pred>
bool wait_until(Pred pred, double timeout_s, int interval_ms = 20) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
  }
  return pred();
}

// Waits up to `timeout_s` for the child `pid` to end and returns its exit code
// (exit_code_of); past that, kills it (SIGKILL), reaps it and returns -1.
inline int wait_exit_within(pid_t pid, double timeout_s) {
  int status = 0;
  const bool done = wait_until([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, timeout_s);
  if (!done) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return -1;
  }
  return exit_code_of(status);
}

}  // namespace hcx::test
