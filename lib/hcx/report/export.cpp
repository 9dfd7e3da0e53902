// Full-fidelity exports of the selected runs' rows (see export.h).
#include "hcx/report/export.h"

#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hcx/error.h"
#include "hcx/store/reader.h"
#include "hcx/util/text.h"

namespace hcx::report {
namespace {

using Json = nlohmann::json;

// A JSON string literal; plain ASCII names and ids skip the general escaper.
void json_string(fmt::memory_buffer& buf, std::string_view s) {
  bool plain = true;
  for (unsigned char c : s) plain &= c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
  if (plain) {
    fmt::format_to(std::back_inserter(buf), "\"{}\"", s);
  } else {
    const std::string e = Json(std::string(s)).dump();
    buf.append(e.data(), e.data() + e.size());
  }
}

std::string csv_number(const std::optional<double>& v) { return v ? exact_number(*v) : ""; }

Json json_number(const std::optional<double>& v) { return v && std::isfinite(*v) ? Json(*v) : Json(nullptr); }

// Writes `rows` (each a list of cells matching `head`) as csv or json.
void write_table(const std::vector<std::string>& head, const std::vector<std::vector<Json>>& rows,
                 const std::string& format, std::ostream& out) {
  if (format == "json") {
    Json arr = Json::array();
    for (const auto& row : rows) {
      Json o = Json::object();
      for (size_t i = 0; i < head.size(); ++i) o[head[i]] = row[i];
      arr.push_back(std::move(o));
    }
    out << arr.dump(1) << "\n";
    return;
  }
  for (size_t i = 0; i < head.size(); ++i) out << (i ? "," : "") << util::csv_field(head[i]);
  out << "\n";
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      std::string cell;
      if (row[i].is_string()) {
        cell = row[i].get<std::string>();
      } else if (row[i].is_number_float()) {
        cell = exact_number(row[i].get<double>());
      } else if (!row[i].is_null()) {
        cell = row[i].dump();
      }
      out << (i ? "," : "") << util::csv_field(cell);
    }
    out << "\n";
  }
}

void export_metrics(const store::Db& db, const std::vector<std::string>& ids, const std::string& format,
                    std::ostream& out) {
  fmt::memory_buffer buf;
  auto drain = [&] {
    out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
    buf.clear();
  };
  const bool json = format == "json";
  bool first = true;
  if (json) {
    fmt::format_to(std::back_inserter(buf), "[");
  } else {
    fmt::format_to(std::back_inserter(buf), "run_id,name,step,value\n");
  }
  store::for_each_metric_row(db, ids, [&](std::string_view run, std::string_view name, int64_t step,
                                          std::optional<double> value) {
    if (json) {
      buf.append(std::string_view(first ? "\n{\"run_id\":" : ",\n{\"run_id\":"));
      json_string(buf, run);
      buf.append(std::string_view(",\"name\":"));
      json_string(buf, name);
      fmt::format_to(std::back_inserter(buf), ",\"step\":{},\"value\":{}}}", step,
                     value && std::isfinite(*value) ? exact_number(*value) : "null");
    } else {
      const std::string n = util::csv_field(std::string(name));
      fmt::format_to(std::back_inserter(buf), "{},{},{},{}\n", run, n, step, csv_number(value));
    }
    first = false;
    if (buf.size() > (1 << 16)) drain();
  });
  if (json) fmt::format_to(std::back_inserter(buf), "\n]\n");
  drain();
}

void export_runs(const store::Db& db, const std::vector<std::string>& ids, const std::string& format,
                 std::ostream& out) {
  const std::set<std::string> wanted(ids.begin(), ids.end());
  std::vector<store::RunRecord> runs;
  for (auto& r : store::list_runs(db)) {
    if (wanted.count(r.id)) runs.push_back(std::move(r));
  }
  std::set<std::string> param_keys, summary_keys;
  for (const auto& r : runs) {
    for (const auto& [k, v] : r.params) param_keys.insert(k);
    for (const auto& [k, v] : r.summary) summary_keys.insert(k);
  }
  std::vector<std::string> head = {"id", "status", "step", "tokens", "attempt", "device", "host",
                                   "started_at", "finished_at", "error", "params", "final_train_loss",
                                   "final_val_loss", "best_val_loss", "best_val_step", "tokens_per_s"};
  for (const auto& k : param_keys) head.push_back("param." + k);
  for (const auto& k : summary_keys) head.push_back("summary." + k);
  auto opt_int = [](const std::optional<int64_t>& v) { return v ? Json(*v) : Json(nullptr); };
  std::vector<std::vector<Json>> rows;
  // Grid order of the selection, as the report shows it.
  std::map<std::string, size_t> order;
  for (size_t i = 0; i < ids.size(); ++i) order[ids[i]] = i;
  std::sort(runs.begin(), runs.end(), [&](const auto& a, const auto& b) { return order[a.id] < order[b.id]; });
  for (const auto& r : runs) {
    std::vector<Json> row = {r.id,
                             to_string(r.status),
                             r.step,
                             r.tokens,
                             r.attempt,
                             r.device,
                             r.host,
                             r.started_at,
                             r.finished_at,
                             r.error,
                             opt_int(r.param_count),
                             json_number(r.final_train_loss),
                             json_number(r.final_val_loss),
                             json_number(r.best_val_loss),
                             opt_int(r.best_val_step),
                             json_number(r.tokens_per_s)};
    for (const auto& k : param_keys) {
      const auto it = r.params.find(k);
      row.push_back(it == r.params.end() ? Json(nullptr) : Json(it->second));
    }
    for (const auto& k : summary_keys) {
      const auto it = r.summary.find(k);
      row.push_back(it == r.summary.end() ? Json(nullptr) : json_number(it->second));
    }
    rows.push_back(std::move(row));
  }
  write_table(head, rows, format, out);
}

void export_evals(const store::Db& db, const std::vector<std::string>& ids, const std::string& format,
                  std::ostream& out) {
  std::vector<std::vector<Json>> rows;
  if (!ids.empty()) {
    for (const auto& e : store::read_evals(db, ids)) rows.push_back({e.run_id, e.step, e.task, e.metric, json_number(e.value)});
  }
  write_table({"run_id", "step", "task", "metric", "value"}, rows, format, out);
}

}  // namespace

std::string exact_number(double v) {
  if (std::isnan(v)) return "nan";
  return fmt::format("{}", v);
}

void export_rows(const store::Db& db, const std::vector<std::string>& run_ids, const std::string& what,
                 const std::string& format, std::ostream& out) {
  if (format != "csv" && format != "json") {
    throw bad_input("--export: --format must be csv or json, got " + format);
  }
  if (what == "metrics") {
    export_metrics(db, run_ids, format, out);
  } else if (what == "runs") {
    export_runs(db, run_ids, format, out);
  } else if (what == "evals") {
    export_evals(db, run_ids, format, out);
  } else {
    throw bad_input("--export " + what + ": expected metrics, runs or evals");
  }
}

}  // namespace hcx::report
