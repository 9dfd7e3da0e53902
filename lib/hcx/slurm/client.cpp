// Slurm's client commands and their output (see client.h).
#include "hcx/slurm/client.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "hcx/error.h"
#include "hcx/util/process.h"

namespace hcx::slurm {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r\n") - a + 1);
}

std::optional<int64_t> to_int(const std::string& s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  for (char c : s)
    if (c < '0' || c > '9') return std::nullopt;
  return std::stoll(s);
}

// The indices of "5", "5-7", "1,3,5-7", "5-7%2" (the % limit ignored).
std::vector<int64_t> expand_indices(std::string spec) {
  std::vector<int64_t> out;
  spec = spec.substr(0, spec.find('%'));
  for (const auto& part : split(spec, ',')) {
    const size_t dash = part.find('-');
    const auto a = to_int(part.substr(0, dash));
    const auto b = dash == std::string::npos ? a : to_int(part.substr(dash + 1));
    if (!a || !b || *b < *a || *b - *a > 1000000) continue;
    for (int64_t i = *a; i <= *b; ++i) out.push_back(i);
  }
  return out;
}

// "0:15" (exit:signal) of sacct and jobcomp.
void set_exit_pair(TaskState& t, const std::string& pair) {
  const auto parts = split(pair, ':');
  const auto code = to_int(parts[0]);
  const auto sig = parts.size() > 1 ? to_int(parts[1]) : std::optional<int64_t>(0);
  if (sig && *sig > 0) {
    t.signal = static_cast<int>(*sig);
  } else if (code) {
    t.exit_code = static_cast<int>(*code);
  }
}

// The value of " Key=" in a jobcomp line (up to the next blank).
std::string field(const std::string& line, const std::string& key) {
  size_t at = line.rfind(key + "=", 0) == 0 ? 0 : line.find(" " + key + "=");
  if (at == std::string::npos) return "";
  if (at != 0 || line[0] == ' ') ++at;
  const size_t start = at + key.size() + 1;
  return line.substr(start, line.find(' ', start) - start);
}

}  // namespace

std::string find_tool(const std::string& tool) {
  if (tool.find('/') != std::string::npos) return access(tool.c_str(), X_OK) == 0 ? tool : "";
  const char* path = std::getenv("PATH");
  for (const auto& dir : split(path ? path : "", ':')) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + tool;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

ToolResult run_tool(const std::vector<std::string>& argv) {
  const std::string exe = find_tool(argv.at(0));
  if (exe.empty())
    throw io_error(argv[0] + ": not found on PATH; hcx needs the Slurm client commands (sbatch, squeue, scontrol) "
                             "of the cluster: run on a login node, or load Slurm's module");
  std::vector<std::string> full = argv;
  full[0] = exe;
  util::ProcessResult p = util::run_process(full, util::StderrTo::kSeparate);
  return {p.exit_code, std::move(p.out), std::move(p.err)};
}

bool is_active_state(const std::string& s) {
  static const std::set<std::string> active = {
      "PENDING",   "RUNNING",  "CONFIGURING", "COMPLETING", "REQUEUED",   "REQUEUE_FED", "REQUEUE_HOLD",
      "RESIZING",  "SUSPENDED", "STOPPED",    "SIGNALING",  "STAGE_OUT",  "RESV_DEL_HOLD", "SPECIAL_EXIT"};
  return active.count(s) > 0;
}

bool is_terminal_state(const std::string& s) {
  static const std::set<std::string> terminal = {"COMPLETED", "FAILED",   "CANCELLED",     "TIMEOUT",
                                                 "NODE_FAIL", "PREEMPTED", "BOOT_FAIL",    "DEADLINE",
                                                 "OUT_OF_MEMORY", "REVOKED"};
  return terminal.count(s) > 0;
}

const char* const kSqueueFormat =
    "ArrayJobID:|,ArrayTaskID:|,JobID:|,State:|,Reason:|,NodeList:|,exit_code:|";

TaskStates parse_squeue(const std::string& text) {
  TaskStates out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto f = split(trim(line), '|');
    if (f.size() < 7) continue;
    const auto index = to_int(trim(f[1]));
    if (!index) continue;  // "N/A": not an array task
    TaskState t;
    t.state = trim(f[3]);
    t.reason = trim(f[4]);
    if (t.reason == "None") t.reason.clear();
    t.job_id = trim(f[2]);
    t.node = trim(f[5]);
    t.source = "squeue";
    if (is_terminal_state(t.state)) {
      if (const auto raw = to_int(trim(f[6]))) {
        const int status = static_cast<int>(*raw);
        if ((status & 0x7f) == 0) {
          t.exit_code = (status >> 8) & 0xff;
        } else {
          t.signal = status & 0x7f;
        }
      }
    }
    out[{trim(f[0]), *index}] = t;
  }
  return out;
}

const char* const kSacctFields = "JobID,State,ExitCode,NodeList";

TaskStates parse_sacct(const std::string& text) {
  TaskStates out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto f = split(trim(line), '|');
    if (f.size() < 3) continue;
    const std::string id = f[0];
    const size_t us = id.find('_');
    if (us == std::string::npos || id.find('.') != std::string::npos) continue;  // not an array task, or a step
    std::string spec = id.substr(us + 1);
    if (!spec.empty() && spec.front() == '[') spec = spec.substr(1, spec.find(']') - 1);
    TaskState t;
    t.state = split(trim(f[1]), ' ')[0];  // "CANCELLED by 0"
    t.node = f.size() > 3 ? trim(f[3]) : "";
    t.source = "sacct";
    if (is_terminal_state(t.state)) set_exit_pair(t, trim(f[2]));
    for (int64_t i : expand_indices(spec)) out[{id.substr(0, us), i}] = t;
  }
  return out;
}

TaskStates parse_jobcomp(std::istream& in, const std::set<std::string>& array_jobs) {
  TaskStates out;
  std::string line;
  while (std::getline(in, line)) {
    const std::string array_job = field(line, "ArrayJobId");
    if (array_job.empty() || !array_jobs.count(array_job)) continue;
    const auto index = to_int(field(line, "ArrayTaskId"));
    TaskState t;
    t.state = field(line, "JobState");
    if (!index || !is_terminal_state(t.state)) continue;  // a requeue's PENDING line
    t.job_id = field(line, "JobId");
    t.node = field(line, "NodeList");
    t.source = "jobcomp";
    set_exit_pair(t, field(line, "ExitCode"));
    out[{array_job, *index}] = t;  // later lines win
  }
  return out;
}

ClusterConfig parse_show_config(const std::string& text) {
  ClusterConfig c;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    if (key == "AccountingStorageType") c.accounting = !value.empty() && value != "accounting_storage/none";
    if (key == "JobCompType") c.jobcomp_type = value;
    if (key == "JobCompLoc") c.jobcomp_loc = value;
  }
  return c;
}

std::optional<int64_t> parse_restarts(const std::string& show_job) {
  const size_t at = show_job.find("Restarts=");
  if (at == std::string::npos) return std::nullopt;
  const size_t start = at + 9;
  size_t end = start;
  while (end < show_job.size() && show_job[end] >= '0' && show_job[end] <= '9') ++end;
  return to_int(show_job.substr(start, end - start));
}

std::string parse_sbatch_job_id(const std::string& out) {
  const std::string first = trim(out.substr(0, out.find('\n')));
  const std::string id = first.substr(0, first.find(';'));
  return to_int(id) ? id : "";
}

TaskStates query_tasks(const std::vector<TaskKey>& wanted) {
  std::set<std::string> arrays;
  for (const auto& k : wanted) arrays.insert(k.array_job);
  if (arrays.empty()) return {};
  std::string ids;
  for (const auto& a : arrays) ids += (ids.empty() ? "" : ",") + a;

  TaskStates states;
  const ToolResult q = run_tool({"squeue", "-h", "-r", "-t", "all", "-j", ids, "-O", kSqueueFormat});
  if (q.exit_code == 0) {
    states = parse_squeue(q.out);
  } else if (q.err.find("Invalid job id") == std::string::npos) {
    throw io_error("squeue failed (exit " + std::to_string(q.exit_code) + "): " + trim(q.err));
  }
  std::set<std::string> missing;
  for (const auto& k : wanted)
    if (!states.count(k)) missing.insert(k.array_job);
  if (missing.empty()) return states;

  // Finished long enough ago that squeue forgot them.
  const ToolResult conf = run_tool({"scontrol", "show", "config"});
  const ClusterConfig cluster = parse_show_config(conf.out);
  TaskStates more;
  if (cluster.accounting) {
    std::string list;
    for (const auto& a : missing) list += (list.empty() ? "" : ",") + a;
    const ToolResult s = run_tool({"sacct", "-n", "-P", "-X", "-j", list, "-o", kSacctFields});
    if (s.exit_code == 0) more = parse_sacct(s.out);
  } else if (cluster.jobcomp_type == "jobcomp/filetxt" && !cluster.jobcomp_loc.empty()) {
    std::ifstream in(cluster.jobcomp_loc);
    if (in) more = parse_jobcomp(in, missing);
  }
  for (const auto& [k, t] : more) states.emplace(k, t);  // squeue's answer wins
  return states;
}

}  // namespace hcx::slurm
