// Helpers of the end-to-end tests: temporary folders (TempDir, from
// common/temp_dir.h), running the hcx binary (HCX_BINARY) as a child process,
// and reading the results database.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "common/temp_dir.h"  // TempDir (this namespace): tmp.path(), tmp / "name"

namespace hcx::test {

namespace fs = std::filesystem;

struct Result {
  int code = -1;       // exit status, or 128 + signal
  std::string output;  // stdout and stderr together
};

// Runs the shell command `cmd` and returns (exit status or 128 + signal, its stdout).
inline std::pair<int, std::string> capture(const std::string& cmd) {
  std::string out;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return {-1, out};
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out};
}

// Runs `hcx args` (a shell command line after the binary's path) in `cwd`
// and waits for it; stdout and stderr together.
inline Result run_hcx(const std::string& args, const std::string& cwd = ".") {
  auto [code, out] = capture("cd '" + cwd + "' && " + std::string(HCX_BINARY) + " " + args + " 2>&1");
  return {code, out};
}

// `hcx args` with stdout only (stderr dropped unless `merge_stderr`), for
// tests that parse what hcx prints for scripts.
struct Output {
  int exit_code = -1;
  std::string out;
};
inline Output run_hcx_output(const std::string& args, bool merge_stderr = false) {
  auto [code, out] = capture(std::string(HCX_BINARY) + " " + args + (merge_stderr ? " 2>&1" : " 2>/dev/null"));
  return {code, out};
}

// Starts `hcx args...` in the background with output to `log`; returns its pid.
inline pid_t spawn_hcx(const std::vector<std::string>& args, const std::string& log, const std::string& cwd = ".") {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::chdir(cwd.c_str()) != 0) ::_exit(127);
    FILE* f = std::fopen(log.c_str(), "w");
    ::dup2(::fileno(f), 1);
    ::dup2(::fileno(f), 2);
    std::vector<char*> argv{const_cast<char*>(HCX_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(HCX_BINARY, argv.data());
    ::_exit(127);
  }
  return pid;
}

// What `hcx report ...` printed, stdout and stderr kept apart.
struct ReportOutput {
  int code = -1;
  std::string out, err;
};

// Runs `hcx report <args>` with `env` assignments before it (e.g. "NO_COLOR="),
// stdout a pipe (not a terminal) and stderr in <dir>/stderr.txt.
inline ReportOutput run_hcx_report(const std::filesystem::path& dir, const std::string& args,
                                   const std::string& env = "") {
  const std::string err = (dir / "stderr.txt").string();
  const std::string cmd = env + " " + std::string(HCX_BINARY) + " report " + args + " 2>'" + err + "'";
  ReportOutput r;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream e(err);
  r.err.assign(std::istreambuf_iterator<char>(e), {});
  return r;
}

// Waits for `pid`; returns its exit status, or 128 + signal.
inline int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// One value of a query on the database at `db` (read-only), as text; "" when no row.
inline std::string query1(const std::string& db, const std::string& sql) {
  SQLite::Database d(db, SQLite::OPEN_READONLY);
  d.setBusyTimeout(5000);
  SQLite::Statement q(d, sql);
  return q.executeStep() ? q.getColumn(0).getString() : "";
}

// Rows of a two-column query as (int, double) pairs.
inline std::vector<std::pair<int64_t, double>> query_curve(const std::string& db, const std::string& sql) {
  SQLite::Database d(db, SQLite::OPEN_READONLY);
  d.setBusyTimeout(5000);
  SQLite::Statement q(d, sql);
  std::vector<std::pair<int64_t, double>> rows;
  while (q.executeStep()) rows.emplace_back(q.getColumn(0).getInt64(), q.getColumn(1).getDouble());
  return rows;
}

// The train/loss curve of every run in the database at `db`, by step.
inline std::vector<std::pair<int64_t, double>> train_losses(const std::string& db) {
  return query_curve(db, "SELECT step, value FROM metrics WHERE name = 'train/loss' ORDER BY step");
}

// Polls `pred` every `interval_ms` for up to `timeout_s` seconds.
template <class Pred>
bool wait_until(Pred pred, double timeout_s, int interval_ms = 20) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
  }
  return pred();
}

inline void write_file(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace hcx::test
