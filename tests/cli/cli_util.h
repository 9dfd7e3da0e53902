// Helpers of the end-to-end tests: temporary folders (TempDir, from
// common/temp_dir.h), running the hcx binary (HCX_BINARY) as a child process
// (on common/process.h, whose capture, wait_exit and wait_until the tests use
// too), and reading the results database. read_file and write_file come
// from common/files.h.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "common/files.h"     // read_file, write_file (this namespace)
#include "common/process.h"   // Result, capture, spawn, wait_exit, wait_until (this namespace)
#include "common/temp_dir.h"  // TempDir (this namespace): tmp.path(), tmp / "name"
#include "common/text.h"      // count_of (this namespace)

namespace hcx::test {

namespace fs = std::filesystem;

// Runs `hcx args` (a shell command line after the binary's path) in `cwd`
// and waits for it; stdout and stderr together.
inline Result run_hcx(const std::string& args, const std::string& cwd = ".") {
  return capture("cd '" + cwd + "' && " + std::string(HCX_BINARY) + " " + args + " 2>&1");
}

// `hcx args` with stdout only (stderr dropped unless `merge_stderr`), for
// tests that parse what hcx prints for scripts.
struct Output {
  int exit_code = -1;
  std::string out;
};
inline Output run_hcx_output(const std::string& args, bool merge_stderr = false) {
  auto [code, out] = capture(std::string(HCX_BINARY) + " " + args + (merge_stderr ? " 2>&1" : " 2>/dev/null"));
  return {code, std::move(out)};
}

// Starts `hcx args...` in the background with output to `log`; returns its pid.
inline pid_t spawn_hcx(const std::vector<std::string>& args, const std::string& log, const std::string& cwd = ".") {
  std::vector<std::string> argv{HCX_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return spawn(argv, log, cwd);
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
  Result run = capture(cmd);
  r.code = run.code;
  r.out = std::move(run.output);
  r.err = read_file(err);
  return r;
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

}  // namespace hcx::test
