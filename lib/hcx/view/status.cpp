// `hcx status`: counts by status and one row per run (see status.h).
#include "hcx/view/status.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <ostream>
#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "hcx/error.h"
#include "hcx/store/timestamp.h"
#include "hcx/view/query.h"

namespace hcx::view {
namespace {

// The count line's order; a status the database holds beyond these comes last.
constexpr RunStatus kStatusOrder[] = {RunStatus::kRunning, RunStatus::kPending,  RunStatus::kCompleted,
                                      RunStatus::kFailed,  RunStatus::kDiverged, RunStatus::kInterrupted};

std::string count_line(const StatusReport& r) {
  int64_t total = 0;
  for (const auto& [status, n] : r.counts) total += n;
  std::string line = (r.sweep.empty() ? "" : "sweep " + r.sweep + ": ") + std::to_string(total) +
                     (total == 1 ? " run" : " runs");
  std::vector<std::string> parts;
  std::map<std::string, int64_t> rest = r.counts;
  for (RunStatus status : kStatusOrder) {
    const char* s = to_string(status);
    auto it = rest.find(s);
    if (it == rest.end()) continue;
    if (it->second > 0) parts.push_back(std::to_string(it->second) + " " + s);
    rest.erase(it);
  }
  for (const auto& [s, n] : rest) parts.push_back(std::to_string(n) + " " + s);
  for (std::size_t i = 0; i < parts.size(); ++i) line += (i ? ", " : ": ") + parts[i];
  return line;
}

std::string fixed4(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

std::string one_line(std::string s, std::size_t max) {
  for (char& ch : s) {
    if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
  }
  return s.size() > max ? s.substr(0, max - 3) + "..." : s;
}

}  // namespace

StatusReport build_status(const store::Db& db, const std::string& sweep) {
  StatusReport r;
  r.sweep = sweep;
  r.counts = store::status_counts(db, sweep);
  r.runs = store::run_states(db, sweep);
  return r;
}

void write_status_table(const StatusReport& r, std::ostream& out) {
  out << count_line(r) << "\n";
  if (r.runs.empty()) return;
  out << "\n";
  bool any_error = false;
  for (const auto& s : r.runs) any_error = any_error || !s.error.empty();
  store::QueryResult t;
  t.columns = {"run", "status", "step", "heartbeat", "device", "loss"};
  for (const auto& col : r.extra) t.columns.push_back(col.header);
  if (any_error) t.columns.push_back("error");
  for (const auto& s : r.runs) {
    std::vector<store::Cell> row;
    row.emplace_back(s.id);
    row.emplace_back(std::string(to_string(s.status)));
    row.emplace_back(std::to_string(s.step) + (s.total_steps > 0 ? "/" + std::to_string(s.total_steps) : ""));
    row.emplace_back(s.heartbeat_age_s ? store::format_age(*s.heartbeat_age_s) : std::string("-"));
    row.emplace_back(s.device.empty() ? std::string("-") : s.device);
    row.emplace_back(s.last_loss ? fixed4(*s.last_loss) : std::string("-"));
    for (const auto& col : r.extra) {
      auto it = col.values.find(s.id);
      row.emplace_back(it == col.values.end() ? std::string() : it->second);
    }
    if (any_error) row.emplace_back(one_line(s.error, 80));
    t.rows.push_back(std::move(row));
  }
  write_table(t, out);
}

void write_status_json(const StatusReport& r, std::ostream& out) {
  using Json = nlohmann::ordered_json;
  auto opt = [](const auto& v) { return v ? Json(*v) : Json(nullptr); };
  auto text = [](const std::string& v) { return v.empty() ? Json(nullptr) : Json(v); };
  Json runs = Json::array();
  for (const auto& s : r.runs) {
    Json j;
    j["id"] = s.id;
    j["status"] = to_string(s.status);
    j["step"] = s.step;
    j["total_steps"] = s.total_steps > 0 ? Json(s.total_steps) : Json(nullptr);
    j["tokens"] = s.tokens;
    j["attempt"] = s.attempt;
    j["device"] = text(s.device);
    j["host"] = text(s.host);
    j["pid"] = opt(s.pid);
    j["heartbeat_at"] = text(s.heartbeat_at);
    j["heartbeat_age_s"] = opt(s.heartbeat_age_s);
    j["last_loss"] = opt(s.last_loss);
    j["error"] = text(s.error);
    for (const auto& col : r.extra) {
      auto it = col.values.find(s.id);
      j[col.header] = it == col.values.end() ? Json(nullptr) : Json(it->second);
    }
    runs.push_back(std::move(j));
  }
  Json counts = Json::object();
  for (const auto& [status, n] : r.counts) counts[status] = n;
  Json doc;
  doc["sweep"] = text(r.sweep);
  doc["counts"] = counts;
  doc["runs"] = runs;
  out << doc.dump(2) << "\n";
}

int status_command(const StatusOptions& opts, std::ostream& out) {
  if (opts.format != "table" && opts.format != "json") {
    throw Error(ErrorKind::kBadInput, "--format: expected table or json, got \"" + opts.format + "\"");
  }
  if (opts.watch_s < 0) throw Error(ErrorKind::kBadInput, "--interval: expected a positive number of seconds");
  for (int64_t prints = 1;; ++prints) {
    std::optional<store::CollectReport> collected;
    StatusReport report;
    {
      const store::Db db =
          store::open_collected(opts.db, &collected);  // closed between prints: writers are never held up
      report = build_status(db, opts.sweep);
    }
    report.collected = std::move(collected);
    if (opts.annotate) opts.annotate(report);
    if (opts.watch_s > 0) {
      char every[32];
      std::snprintf(every, sizeof every, "%g", opts.watch_s);
      out << (opts.clear   ? "\033[H\033[2J"
              : prints > 1 ? "\n"
                           : "")
          << "every " << every << " s · hcx status" << (opts.sweep.empty() ? "" : " --sweep " + opts.sweep) << " · "
          << store::utc_iso().substr(11, 8) << " UTC · Ctrl-C stops\n\n";
    }
    if (opts.format == "json") {
      write_status_json(report, out);
    } else {
      write_status_table(report, out);
    }
    out.flush();
    if (opts.watch_s <= 0 || (opts.max_prints > 0 && prints >= opts.max_prints)) return 0;
    std::this_thread::sleep_for(std::chrono::duration<double>(opts.watch_s));
  }
}

int sweeps_command(const SweepsOptions& opts, std::ostream& out) {
  if (opts.format != "table" && opts.format != "json") {
    throw Error(ErrorKind::kBadInput, "--format: expected table or json, got \"" + opts.format + "\"");
  }
  const store::Db db = store::open_collected(opts.db);
  const std::vector<store::SweepInfo> sweeps = store::list_sweeps(db);
  const size_t unswept = store::unswept_run_ids(db).size();
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
  };
  if (opts.format == "json") {
    using Json = nlohmann::ordered_json;
    Json list = Json::array();
    for (const auto& s : sweeps) {
      Json j;
      j["name"] = s.name;
      j["runs"] = s.runs;
      j["by_status"] = s.by_status;
      j["created_at"] = s.created_at;
      j["tags"] = s.tags;
      j["note"] = s.note;
      j["hcx_version"] = s.hcx_version;
      list.push_back(std::move(j));
    }
    Json doc;
    doc["sweeps"] = std::move(list);
    doc["unswept_runs"] = unswept;
    out << doc.dump(2) << "\n";
    return 0;
  }
  store::QueryResult t;
  t.columns = {"sweep", "runs", "completed", "running", "pending", "failed", "other", "created", "tags", "note"};
  for (const auto& s : sweeps) {
    auto n = [&](RunStatus status) {
      const auto it = s.by_status.find(to_string(status));
      return static_cast<int64_t>(it == s.by_status.end() ? 0 : it->second);
    };
    const int64_t completed = n(RunStatus::kCompleted), running = n(RunStatus::kRunning),
                  pending = n(RunStatus::kPending), failed = n(RunStatus::kFailed);
    const int64_t other = s.runs - completed - running - pending - failed;
    t.rows.push_back({s.name, s.runs, completed, running, pending, failed, other, s.created_at.substr(0, 16),
                      join(s.tags), one_line(s.note, 60)});
  }
  if (sweeps.empty()) {
    out << "no sweeps\n";
  } else {
    write_table(t, out);
    out << "\n";
  }
  out << unswept << (unswept == 1 ? " run" : " runs") << " in no sweep (hcx run CONFIG)"
      << (unswept ? ": hcx report --sweep :unswept" : "") << "\n";
  return 0;
}

}  // namespace hcx::view
