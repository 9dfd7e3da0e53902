// Reading sweeps, runs, curves and per-step tables (see reader.h). Bulk reads
// use the C API directly: at 10 million rows, SQLiteCpp's per-column objects
// would cost more than SQLite itself.
#include "hcx/store/reader.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "hcx/error.h"
#include "hcx/store/sql_util.h"

namespace hcx::store {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One prepared statement on the raw connection, stepped row by row.
class Rows {
 public:
  Rows(const Db& db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(handle(), sql.c_str(), -1, &st_, nullptr) != SQLITE_OK) fail();
  }
  ~Rows() { sqlite3_finalize(st_); }
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;

  Rows& bind(int i, const std::string& v) {
    if (sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) != SQLITE_OK) fail();
    return *this;
  }
  Rows& bind(int i, int64_t v) {
    if (sqlite3_bind_int64(st_, i, v) != SQLITE_OK) fail();
    return *this;
  }
  void reset() { sqlite3_reset(st_); }
  bool next() {
    const int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail();
  }
  int64_t i64(int c) const { return sqlite3_column_int64(st_, c); }
  double real(int c) const {
    return sqlite3_column_type(st_, c) == SQLITE_NULL ? kNaN : sqlite3_column_double(st_, c);
  }
  bool null(int c) const { return sqlite3_column_type(st_, c) == SQLITE_NULL; }
  std::string text(int c) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, c));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(st_, c))) : std::string();
  }
  std::optional<int64_t> opt_i64(int c) const { return null(c) ? std::nullopt : std::optional<int64_t>(i64(c)); }
  std::optional<double> opt_real(int c) const { return null(c) ? std::nullopt : std::optional<double>(real(c)); }

 private:
  sqlite3* handle() const { return db_.sql().getHandle(); }
  [[noreturn]] void fail() const {
    throw Error(ErrorKind::kIo, db_.path().string() + ": " + sqlite3_errmsg(handle()));
  }
  const Db& db_;
  sqlite3_stmt* st_ = nullptr;
};

// "<column> IN (...)" selecting `ids` (bound as a JSON list at ?1), or every
// run when `ids` is empty. Either way SQLite walks the primary key run by run.
std::string run_filter(const std::string& column, const std::vector<std::string>& ids) {
  return column + (ids.empty() ? " IN (SELECT id FROM runs)" : " IN (SELECT value FROM json_each(?1))");
}

void bind_ids(Rows& rows, const std::vector<std::string>& ids) {
  if (!ids.empty()) rows.bind(1, nlohmann::json(ids).dump());
}

constexpr const char* kRunColumns =
    "r.id, r.status, r.config_json, r.step, r.tokens, r.attempt, r.device, r.host, r.error, r.log_path, "
    "r.started_at, r.finished_at, r.heartbeat_at, r.updated_at, r.params, r.final_train_loss, "
    "r.final_val_loss, r.best_val_loss, r.best_val_step, r.tokens_per_s";

RunRecord read_run(const Rows& q) {
  RunRecord r;
  r.id = q.text(0);
  r.status = detail::stored_status(q.text(1), r.id);
  r.config_json = q.text(2);
  r.step = q.i64(3);
  r.tokens = q.i64(4);
  r.attempt = q.i64(5);
  r.device = q.text(6);
  r.host = q.text(7);
  r.error = q.text(8);
  r.log_path = q.text(9);
  r.started_at = q.text(10);
  r.finished_at = q.text(11);
  r.heartbeat_at = q.text(12);
  r.updated_at = q.text(13);
  r.param_count = q.opt_i64(14);
  r.final_train_loss = q.opt_real(15);
  r.final_val_loss = q.opt_real(16);
  r.best_val_loss = q.opt_real(17);
  r.best_val_step = q.opt_i64(18);
  r.tokens_per_s = q.opt_real(19);
  return r;
}

// Fills params and summary of `runs` (indexed by id) from run_params and
// run_summary, restricted by `join` ("" or a join on sweep_runs bound at ?1).
void attach_params(const Db& db, std::vector<RunRecord>& runs, const std::string& join,
                   std::optional<int64_t> sweep_id) {
  std::map<std::string, RunRecord*> by_id;
  for (auto& r : runs) by_id[r.id] = &r;
  Rows p(db, "SELECT t.run_id, t.key, t.value FROM run_params t " + join);
  if (sweep_id) p.bind(1, *sweep_id);
  while (p.next()) {
    auto it = by_id.find(p.text(0));
    if (it != by_id.end()) it->second->params[p.text(1)] = p.text(2);
  }
  Rows s(db, "SELECT t.run_id, t.key, t.value FROM run_summary t " + join);
  if (sweep_id) s.bind(1, *sweep_id);
  while (s.next()) {
    auto it = by_id.find(s.text(0));
    if (it != by_id.end()) it->second->summary[s.text(1)] = s.real(2);
  }
}

std::vector<double> parse_values(const std::string& json) {
  try {
    std::vector<double> out;
    for (const auto& v : nlohmann::json::parse(json)) out.push_back(v.is_number() ? v.get<double>() : kNaN);
    return out;
  } catch (const nlohmann::json::exception&) {
    return {};
  }
}

}  // namespace

std::vector<SweepInfo> list_sweeps(const Db& db) {
  std::vector<SweepInfo> out;
  Rows q(db,
         "SELECT s.id, s.name, s.spec_json, s.created_at, s.hcx_version, "
         "(SELECT count(*) FROM sweep_runs sr WHERE sr.sweep_id = s.id) "
         "FROM sweeps s ORDER BY s.created_at DESC, s.id DESC");
  std::map<int64_t, SweepInfo*> by_id;
  while (q.next()) {
    SweepInfo s;
    s.id = q.i64(0);
    s.name = q.text(1);
    s.spec_json = q.text(2);
    s.created_at = q.text(3);
    s.hcx_version = q.text(4);
    s.runs = q.i64(5);
    out.push_back(std::move(s));
  }
  for (auto& s : out) by_id[s.id] = &s;
  Rows counts(db,
              "SELECT sr.sweep_id, r.status, count(*) FROM sweep_runs sr JOIN runs r ON r.id = sr.run_id "
              "GROUP BY sr.sweep_id, r.status");
  while (counts.next()) by_id.at(counts.i64(0))->by_status[counts.text(1)] = counts.i64(2);
  if (db.schema_version() >= 3) {  // tags and notes (a read-only open of an older file is not migrated)
    Rows notes(db, "SELECT id, note FROM sweeps");
    while (notes.next()) by_id.at(notes.i64(0))->note = notes.text(1);
    Rows tags(db, "SELECT sweep_id, tag FROM sweep_tags ORDER BY sweep_id, tag");
    while (tags.next()) by_id.at(tags.i64(0))->tags.push_back(tags.text(1));
  }
  return out;
}

std::vector<std::string> tagged_run_ids(const Db& db, const std::string& tag) {
  std::vector<std::string> ids;
  if (db.schema_version() < 3) return ids;
  Rows q(db,
         "SELECT run_id FROM run_tags WHERE tag = ?1 UNION "
         "SELECT sr.run_id FROM sweep_runs sr JOIN sweep_tags st ON st.sweep_id = sr.sweep_id WHERE st.tag = ?1 "
         "ORDER BY 1");
  q.bind(1, tag);
  while (q.next()) ids.push_back(q.text(0));
  return ids;
}

std::vector<std::string> unswept_run_ids(const Db& db) {
  std::vector<std::string> ids;
  Rows q(db, "SELECT id FROM runs WHERE id NOT IN (SELECT run_id FROM sweep_runs) ORDER BY id");
  while (q.next()) ids.push_back(q.text(0));
  return ids;
}

std::vector<std::string> run_ids(const Db& db) {
  std::vector<std::string> ids;
  Rows q(db, "SELECT id FROM runs ORDER BY id");
  while (q.next()) ids.push_back(q.text(0));
  return ids;
}

std::vector<std::string> match_run_id(const std::vector<std::string>& ids, const std::string& wanted) {
  if (std::find(ids.begin(), ids.end(), wanted) != ids.end()) return {wanted};
  std::vector<std::string> hits;
  if (wanted.size() < kMinRunIdPrefix) return hits;
  for (const auto& id : ids) {
    if (id.compare(0, wanted.size(), wanted) == 0) hits.push_back(id);
  }
  return hits;
}

std::optional<SweepInfo> get_sweep(const Db& db, const std::string& name) {
  for (auto& s : list_sweeps(db)) {
    if (s.name == name) return s;
  }
  return std::nullopt;
}

std::vector<RunRecord> list_runs(const Db& db, const std::string& sweep) {
  std::vector<RunRecord> runs;
  if (sweep.empty()) {
    Rows q(db, std::string("SELECT ") + kRunColumns + " FROM runs r ORDER BY r.id");
    while (q.next()) runs.push_back(read_run(q));
    attach_params(db, runs, "", std::nullopt);
    return runs;
  }
  const int64_t sweep_id = wrap_sql(db, [&] { return detail::sweep_id_or_throw(db, sweep); });
  Rows q(db, std::string("SELECT ") + kRunColumns +
                 ", sr.position FROM sweep_runs sr JOIN runs r ON r.id = sr.run_id "
                 "WHERE sr.sweep_id = ?1 ORDER BY sr.position, r.id");
  q.bind(1, sweep_id);
  while (q.next()) {
    runs.push_back(read_run(q));
    runs.back().position = q.i64(20);
  }
  attach_params(db, runs, "JOIN sweep_runs sr ON sr.run_id = t.run_id AND sr.sweep_id = ?1", sweep_id);
  return runs;
}

std::optional<RunRecord> get_run(const Db& db, const std::string& run_id) {
  std::vector<RunRecord> runs;
  Rows q(db, std::string("SELECT ") + kRunColumns + " FROM runs r WHERE r.id = ?1");
  q.bind(1, run_id);
  if (!q.next()) return std::nullopt;
  runs.push_back(read_run(q));
  Rows p(db, "SELECT key, value FROM run_params WHERE run_id = ?1");
  p.bind(1, run_id);
  while (p.next()) runs[0].params[p.text(0)] = p.text(1);
  Rows s(db, "SELECT key, value FROM run_summary WHERE run_id = ?1");
  s.bind(1, run_id);
  while (s.next()) runs[0].summary[s.text(0)] = s.real(1);
  return runs[0];
}

Curve metric_curve(const Db& db, const std::string& run_id, const std::string& name) {
  Curve c;
  Rows q(db, "SELECT step, value FROM metrics WHERE run_id = ?1 AND name = ?2 ORDER BY step");
  q.bind(1, run_id).bind(2, name);
  while (q.next()) {
    c.steps.push_back(q.i64(0));
    c.values.push_back(q.real(1));
  }
  return c;
}

std::map<std::string, Curve> metric_curves(const Db& db, const std::string& name,
                                           const std::vector<std::string>& run_ids) {
  std::vector<std::string> ids = run_ids;
  if (ids.empty()) {
    Rows all(db, "SELECT id FROM runs ORDER BY id");
    while (all.next()) ids.push_back(all.text(0));
  }
  // One statement, stepped once per run: a primary-key range scan each, and
  // no run id to read back on every one of 10 million rows.
  std::map<std::string, Curve> out;
  Rows q(db, "SELECT step, value FROM metrics WHERE run_id = ?1 AND name = ?2 ORDER BY step");
  q.bind(2, name);
  std::size_t hint = 0;  // curves of one sweep tend to have one length
  for (const auto& id : ids) {
    q.reset();
    q.bind(1, id);
    Curve c;
    c.steps.reserve(hint);
    c.values.reserve(hint);
    while (q.next()) {
      c.steps.push_back(q.i64(0));
      c.values.push_back(q.real(1));
    }
    if (c.steps.empty()) continue;
    hint = c.steps.size();
    out.emplace(id, std::move(c));
  }
  return out;
}

std::vector<std::string> metric_names(const Db& db, const std::string& run_id) {
  std::vector<std::string> runs;
  if (run_id.empty()) {
    Rows ids(db, "SELECT id FROM runs ORDER BY id");
    while (ids.next()) runs.push_back(ids.text(0));
  } else {
    runs.push_back(run_id);
  }
  // A skip-scan: one primary-key seek per (run, name) instead of reading every step.
  Rows q(db,
         "WITH RECURSIVE n(name) AS ("
         " SELECT min(name) FROM metrics WHERE run_id = ?1"
         " UNION ALL"
         " SELECT (SELECT min(name) FROM metrics WHERE run_id = ?1 AND name > n.name) FROM n"
         " WHERE n.name IS NOT NULL)"
         " SELECT name FROM n WHERE name IS NOT NULL");
  std::set<std::string> names;
  for (const auto& id : runs) {
    q.reset();
    q.bind(1, id);
    while (q.next()) names.insert(q.text(0));
  }
  return {names.begin(), names.end()};
}

std::vector<EvalRecord> read_evals(const Db& db, const std::vector<std::string>& run_ids) {
  std::vector<EvalRecord> out;
  Rows q(db, "SELECT run_id, step, task, metric, value FROM evals WHERE " + run_filter("run_id", run_ids) +
                 " ORDER BY run_id, step, task, metric");
  bind_ids(q, run_ids);
  while (q.next()) out.push_back({q.text(0), q.i64(1), q.text(2), q.text(3), q.real(4)});
  return out;
}

std::vector<LayerStatRecord> read_layer_stats(const Db& db, const std::vector<std::string>& run_ids,
                                              const std::string& name) {
  std::vector<LayerStatRecord> out;
  Rows q(db, "SELECT run_id, step, layer, name, value FROM layer_stats WHERE " + run_filter("run_id", run_ids) +
                 (name.empty() ? "" : " AND name = ?2") + " ORDER BY run_id, step, layer, name");
  bind_ids(q, run_ids);
  if (!name.empty()) q.bind(2, name);
  while (q.next()) out.push_back({q.text(0), q.i64(1), q.i64(2), q.text(3), q.real(4)});
  return out;
}

std::vector<MatrixRecord> read_hc_matrices(const Db& db, const std::vector<std::string>& run_ids,
                                           bool last_step_only) {
  std::vector<MatrixRecord> out;
  std::string sql = "SELECT h.run_id, h.step, h.layer, h.sublayer, h.name, h.rows, h.cols, h.values_json "
                    "FROM hc_matrices h WHERE " + run_filter("h.run_id", run_ids);
  if (last_step_only) {
    sql += " AND h.step = (SELECT max(step) FROM hc_matrices l WHERE l.run_id = h.run_id)";
  }
  Rows q(db, sql + " ORDER BY h.run_id, h.step, h.layer, h.name");
  bind_ids(q, run_ids);
  while (q.next()) {
    out.push_back({q.text(0), q.i64(1), q.i64(2), q.text(3), q.text(4), q.i64(5), q.i64(6), parse_values(q.text(7))});
  }
  return out;
}

std::vector<SpikeRecord> read_spikes(const Db& db, const std::vector<std::string>& run_ids) {
  std::vector<SpikeRecord> out;
  Rows q(db, "SELECT run_id, metric, step, value, mean, std, score FROM spikes WHERE " +
                 run_filter("run_id", run_ids) + " ORDER BY run_id, metric, step");
  bind_ids(q, run_ids);
  while (q.next()) out.push_back({q.text(0), q.text(1), q.i64(2), q.real(3), q.real(4), q.real(5), q.real(6)});
  return out;
}

void for_each_metric_row(const Db& db, const std::vector<std::string>& run_ids, const MetricRowFn& fn) {
  if (run_ids.empty()) return;
  sqlite3* h = db.sql().getHandle();
  sqlite3_stmt* st = nullptr;
  auto fail = [&] { throw Error(ErrorKind::kIo, db.path().string() + ": " + sqlite3_errmsg(h)); };
  const char* sql =
      "SELECT run_id, name, step, value FROM metrics WHERE run_id IN (SELECT value FROM json_each(?1)) "
      "ORDER BY run_id, name, step";
  if (sqlite3_prepare_v2(h, sql, -1, &st, nullptr) != SQLITE_OK) fail();
  struct Finalize {
    sqlite3_stmt* st;
    ~Finalize() { sqlite3_finalize(st); }
  } guard{st};
  const std::string ids = nlohmann::json(run_ids).dump();
  if (sqlite3_bind_text(st, 1, ids.data(), static_cast<int>(ids.size()), SQLITE_TRANSIENT) != SQLITE_OK) fail();
  auto text = [&](int c) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
    return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(st, c))) : std::string_view();
  };
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const std::optional<double> value = sqlite3_column_type(st, 3) == SQLITE_NULL
                                            ? std::nullopt
                                            : std::optional<double>(sqlite3_column_double(st, 3));
    fn(text(0), text(1), sqlite3_column_int64(st, 2), value);
  }
  if (rc != SQLITE_DONE) fail();
}

}  // namespace hcx::store
