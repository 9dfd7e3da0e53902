// Sweeps, runs and the claim/heartbeat/finish protocol (see runs.h).
#include "hcx/store/runs.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "hcx/error.h"
#include "hcx/store/sql_util.h"
#include "hcx/store/timestamp.h"
#include "hcx/util/text.h"

namespace hcx::store {
namespace {

std::string this_host() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

Error unknown_run(const Db& db, const std::string& run_id) {
  return Error(ErrorKind::kBadInput, db.path().string() + ": unknown run id '" + run_id + "'");
}

// Writes config_json and run_params; returns false when the stored config was
// already identical (nothing written, updated_at untouched: a sweep re-run
// must not look newer than a shard that holds the run's results).
bool upsert_run_rows(SQLite::Database& sql, const std::string& run_id, const config::RunConfig& cfg,
                     const std::string& now) {
  SQLite::Statement up(sql,
                       "INSERT INTO runs (id, config_json, updated_at, revision) VALUES (?, ?, ?, 1) "
                       "ON CONFLICT (id) DO UPDATE SET config_json = excluded.config_json, "
                       "updated_at = excluded.updated_at, revision = revision + 1 "
                       "WHERE config_json IS NOT excluded.config_json");
  up.bind(1, run_id);
  up.bind(2, config::to_json(cfg).dump());
  up.bind(3, now);
  if (up.exec() == 0) return false;
  SQLite::Statement del(sql, "DELETE FROM run_params WHERE run_id = ?");
  del.bind(1, run_id);
  del.exec();
  SQLite::Statement ins(sql, "INSERT INTO run_params (run_id, key, value) VALUES (?, ?, ?)");
  for (const auto& [key, value] : config::flatten(cfg)) {
    ins.bind(1, run_id);
    ins.bind(2, key);
    ins.bind(3, value);
    ins.exec();
    ins.reset();
  }
  return true;
}

void link_run_row(SQLite::Database& sql, int64_t sweep_id, const std::string& run_id, int64_t position) {
  SQLite::Statement st(sql,
                       "INSERT INTO sweep_runs (sweep_id, run_id, position) VALUES (?, ?, ?) "
                       "ON CONFLICT (sweep_id, run_id) DO UPDATE SET position = excluded.position");
  st.bind(1, sweep_id);
  st.bind(2, run_id);
  st.bind(3, position);
  st.exec();
}

// Columns of run_state_query(), in order.
constexpr const char* kStateColumns =
    "r.id, r.status, r.step, r.tokens, r.attempt, r.pid, r.host, r.device, r.error, r.log_path, "
    "r.started_at, r.finished_at, r.heartbeat_at, r.updated_at, "
    "(SELECT p.value FROM run_params p WHERE p.run_id = r.id AND p.key = 'train.steps'), "
    "(SELECT m.value FROM metrics m WHERE m.run_id = r.id AND m.name = 'train/loss' "
    " ORDER BY m.step DESC LIMIT 1), r.proc_start";

RunState read_state(const SQLite::Statement& st, Clock::time_point now) {
  using detail::opt_int;
  using detail::opt_real;
  using detail::text_or_empty;
  RunState s;
  s.id = st.getColumn(0).getString();
  s.status = detail::stored_status(st.getColumn(1).getString(), s.id);
  s.step = st.getColumn(2).getInt64();
  s.tokens = st.getColumn(3).getInt64();
  s.attempt = st.getColumn(4).getInt64();
  s.pid = opt_int(st, 5);
  s.host = text_or_empty(st, 6);
  s.device = text_or_empty(st, 7);
  s.error = text_or_empty(st, 8);
  s.log_path = text_or_empty(st, 9);
  s.started_at = text_or_empty(st, 10);
  s.finished_at = text_or_empty(st, 11);
  s.heartbeat_at = text_or_empty(st, 12);
  s.updated_at = text_or_empty(st, 13);
  const std::string total = text_or_empty(st, 14);
  try {
    s.total_steps = total.empty() ? 0 : std::stoll(total);
  } catch (const std::exception&) {
    s.total_steps = 0;
  }
  s.last_loss = opt_real(st, 15);
  s.proc_start = text_or_empty(st, 16);
  s.heartbeat_age_s = age_seconds(s.heartbeat_at, now);
  if (st.getColumnCount() > 17) s.position = opt_int(st, 17);
  return s;
}

}  // namespace

namespace detail {

int64_t sweep_id_or_throw(const Db& db, const std::string& sweep) {
  if (auto id = find_sweep_id(db, sweep)) return *id;
  std::vector<std::string> names;
  SQLite::Statement st(db.sql(), "SELECT name FROM sweeps");
  while (st.executeStep()) names.push_back(st.getColumn(0).getString());
  std::string msg = db.path().string() + ": unknown sweep '" + sweep + "'";
  const std::string near = config::nearest(sweep, names);
  if (!near.empty()) {
    msg += util::did_you_mean(near);
  } else if (names.empty()) {
    msg += " (the database holds no sweeps)";
  }
  throw Error(ErrorKind::kBadInput, msg);
}


}  // namespace detail

const std::vector<std::string>& summary_columns() {
  static const std::vector<std::string> kColumns = {"params",        "final_train_loss", "final_val_loss",
                                                    "best_val_loss", "best_val_step",    "tokens_per_s"};
  return kColumns;
}

int64_t register_sweep(Db& db, const std::string& name, const std::string& spec_json,
                       const std::string& hcx_version) {
  int64_t id = 0;
  write_txn(db, [&] {
    SQLite::Statement st(db.sql(),
                         "INSERT INTO sweeps (name, spec_json, created_at, hcx_version) VALUES (?, ?, ?, ?) "
                         "ON CONFLICT (name) DO UPDATE SET spec_json = excluded.spec_json, "
                         "hcx_version = excluded.hcx_version");
    st.bind(1, name);
    st.bind(2, spec_json);
    st.bind(3, utc_iso());
    st.bind(4, hcx_version);
    st.exec();
    SQLite::Statement q(db.sql(), "SELECT id FROM sweeps WHERE name = ?");
    q.bind(1, name);
    q.executeStep();
    id = q.getColumn(0).getInt64();
  });
  return id;
}

void check_tags(const std::vector<std::string>& tags) {
  for (const auto& t : tags) {
    if (t.empty() || t.find_first_of(", \t\n") != std::string::npos)
      throw bad_input("--tag \"" + t + "\": a tag is one word without commas or blanks");
  }
}

namespace {

// Adds `tags` to the row `id` of `row_table` (through `tag_table`, keyed by
// `id_column`) and sets its note unless `note` is empty, in one transaction.
template <class Id>
void add_tags(Db& db, const char* row_table, const char* tag_table, const char* id_column, const Id& id,
              const std::vector<std::string>& tags, const std::string& note) {
  check_tags(tags);
  write_txn(db, [&] {
    SQLite::Statement ins(db.sql(), std::string("INSERT OR IGNORE INTO ") + tag_table + " (" + id_column +
                                        ", tag) VALUES (?, ?)");
    for (const auto& t : tags) {
      ins.bind(1, id);
      ins.bind(2, t);
      ins.exec();
      ins.reset();
    }
    if (note.empty()) return;
    SQLite::Statement up(db.sql(), std::string("UPDATE ") + row_table + " SET note = ? WHERE id = ?");
    up.bind(1, note);
    up.bind(2, id);
    up.exec();
  });
}

}  // namespace

void tag_sweep(Db& db, int64_t sweep_id, const std::vector<std::string>& tags, const std::string& note) {
  add_tags(db, "sweeps", "sweep_tags", "sweep_id", sweep_id, tags, note);
}

void tag_run(Db& db, const std::string& run_id, const std::vector<std::string>& tags, const std::string& note) {
  add_tags(db, "runs", "run_tags", "run_id", run_id, tags, note);
}

std::optional<int64_t> find_sweep_id(const Db& db, const std::string& name) {
  return wrap_sql(db, [&]() -> std::optional<int64_t> {
    SQLite::Statement q(db.sql(), "SELECT id FROM sweeps WHERE name = ?");
    q.bind(1, name);
    if (!q.executeStep()) return std::nullopt;
    return q.getColumn(0).getInt64();
  });
}

void upsert_run(Db& db, const std::string& run_id, const config::RunConfig& cfg) {
  write_txn(db, [&] { upsert_run_rows(db.sql(), run_id, cfg, utc_iso()); });
}

void link_run(Db& db, int64_t sweep_id, const std::string& run_id, int64_t position) {
  write_txn(db, [&] { link_run_row(db.sql(), sweep_id, run_id, position); });
}

void register_runs(Db& db, int64_t sweep_id, const std::vector<RunEntry>& runs) {
  write_txn(db, [&] {
    const std::string now = utc_iso();
    for (std::size_t i = 0; i < runs.size(); ++i) {
      upsert_run_rows(db.sql(), runs[i].id, runs[i].config, now);
      link_run_row(db.sql(), sweep_id, runs[i].id, static_cast<int64_t>(i));
    }
  });
}

int64_t start_run(Db& db, const std::string& run_id, const StartInfo& info) {
  int64_t attempt = 0;
  write_txn(db, [&] {
    const std::string now = utc_iso();
    SQLite::Statement st(db.sql(),
                         "UPDATE runs SET status = 'running', device = ?1, host = ?2, pid = ?3, "
                         "attempt = COALESCE(?4, attempt + 1), started_at = ?5, heartbeat_at = ?5, "
                         "finished_at = NULL, error = NULL, log_path = COALESCE(?6, log_path), "
                         "proc_start = ?8, updated_at = ?5, revision = revision + 1 WHERE id = ?7 RETURNING attempt");
    detail::bind_text_or_null(st, 1, info.device);
    st.bind(2, info.host.empty() ? this_host() : info.host);
    st.bind(3, info.pid != 0 ? info.pid : static_cast<int64_t>(getpid()));
    if (info.attempt) {
      st.bind(4, *info.attempt);
    } else {
      st.bind(4);
    }
    st.bind(5, now);
    detail::bind_text_or_null(st, 6, info.log_path);
    st.bind(7, run_id);
    detail::bind_text_or_null(st, 8, info.proc_start);
    if (!st.executeStep()) throw unknown_run(db, run_id);
    attempt = st.getColumn(0).getInt64();
  });
  return attempt;
}

std::optional<int64_t> claim_run(Db& db, const std::string& run_id, const StartInfo& info,
                                 const HolderAlive& holder_alive, const config::RunConfig* cfg) {
  std::optional<int64_t> attempt;
  write_txn(db, [&] {
    attempt.reset();
    auto row = run_state(db, run_id);
    if (info.test_claim_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(info.test_claim_delay_ms));
    if (row && row->status == RunStatus::kRunning && holder_alive(*row)) return;  // held by a live process
    if (!row && cfg == nullptr) throw unknown_run(db, run_id);
    if (cfg != nullptr) upsert_run_rows(db.sql(), run_id, *cfg, utc_iso());
    attempt = start_run(db, run_id, info);
  });
  return attempt;
}

std::optional<int64_t> claim_run(Db& db, const std::string& run_id, const StartInfo& info,
                                 double stale_after_s) {
  return claim_run(db, run_id, info, [stale_after_s](const RunState& row) {
    return row.heartbeat_age_s && *row.heartbeat_age_s < stale_after_s;
  });
}

void set_provenance(Db& db, const std::string& run_id, const config::Provenance& p) {
  write_txn(db, [&] {
    SQLite::Statement st(db.sql(),
                         "UPDATE runs SET code_version = ?1, code_commit = ?2, data_id = ?3, updated_at = ?4, "
                         "revision = revision + 1 WHERE id = ?5");
    st.bind(1, p.code_version);
    st.bind(2, p.code_commit);
    st.bind(3, p.data_id);
    st.bind(4, utc_iso());
    st.bind(5, run_id);
    if (st.exec() == 0) throw unknown_run(db, run_id);
  });
}

std::map<std::string, config::Provenance> provenances(const Db& db, const std::vector<std::string>& run_ids) {
  return wrap_sql(db, [&] {
    std::map<std::string, config::Provenance> out;
    auto read = [&](SQLite::Statement& st) {
      while (st.executeStep()) {
        out[st.getColumn(0).getString()] = {detail::text_or_empty(st, 1), detail::text_or_empty(st, 2),
                                            detail::text_or_empty(st, 3)};
      }
    };
    constexpr const char* kSelect = "SELECT id, code_version, code_commit, data_id FROM runs";
    if (run_ids.empty()) {
      SQLite::Statement st(db.sql(), kSelect);
      read(st);
      return out;
    }
    SQLite::Statement st(db.sql(), std::string(kSelect) + " WHERE id = ?");
    for (const auto& id : run_ids) {
      st.bind(1, id);
      read(st);
      st.reset();
    }
    return out;
  });
}

void heartbeat(Db& db, const std::string& run_id, int64_t step, int64_t tokens) {
  write_txn(db, [&] {
    const std::string now = utc_iso();
    SQLite::Statement st(db.sql(),
                         "UPDATE runs SET step = ?, tokens = ?, heartbeat_at = ?3, updated_at = ?3, "
                         "revision = revision + 1 WHERE id = ?4");
    st.bind(1, step);
    st.bind(2, tokens);
    st.bind(3, now);
    st.bind(4, run_id);
    if (st.exec() == 0) throw unknown_run(db, run_id);
  });
}

bool finish_run(Db& db, const std::string& run_id, RunStatus status, const std::string& error,
                std::optional<int64_t> attempt) {
  if (status == RunStatus::kPending || status == RunStatus::kRunning) {
    throw Error(ErrorKind::kBadInput, std::string("finish_run: status must be completed, failed, diverged or "
                                                  "interrupted, got \"") +
                                          to_string(status) + "\"");
  }
  bool owned = true;
  write_txn(db, [&] {
    const std::string now = utc_iso();
    SQLite::Statement st(db.sql(),
                         "UPDATE runs SET status = ?1, error = ?2, finished_at = ?3, heartbeat_at = ?3, "
                         "updated_at = ?3, revision = revision + 1 WHERE id = ?4 AND (?5 IS NULL OR attempt = ?5)");
    st.bind(1, to_string(status));
    detail::bind_text_or_null(st, 2, error);
    st.bind(3, now);
    st.bind(4, run_id);
    if (attempt) {
      st.bind(5, *attempt);
    } else {
      st.bind(5);
    }
    owned = st.exec() > 0;
    if (!owned && !run_state(db, run_id)) throw unknown_run(db, run_id);
  });
  return owned;
}

bool holds_steps(const Db& db, const std::string& run_id, const std::string& name, int64_t step) {
  if (step <= 0) return true;
  return wrap_sql(db, [&] {
    SQLite::Statement q(db.sql(), "SELECT count(*) FROM metrics WHERE run_id = ? AND name = ? AND step BETWEEN 1 AND ?");
    q.bind(1, run_id);
    q.bind(2, name);
    q.bind(3, step);
    q.executeStep();
    return q.getColumn(0).getInt64() == step;
  });
}

void requeue_run(Db& db, const std::string& run_id) {
  write_txn(db, [&] {
    SQLite::Statement st(db.sql(),
                         "UPDATE runs SET status = 'pending', pid = NULL, error = NULL, finished_at = NULL, "
                         "updated_at = ?1, revision = revision + 1 WHERE id = ?2");
    st.bind(1, utc_iso());
    st.bind(2, run_id);
    if (st.exec() == 0) throw unknown_run(db, run_id);
  });
}

void set_summary(Db& db, const std::string& run_id, const std::string& key, double value) {
  write_txn(db, [&] {
    if (!detail::bump_run(db.sql(), run_id, utc_iso())) throw unknown_run(db, run_id);
    detail::write_summary(db.sql(), run_id, key, value);
  });
}

std::optional<RunState> run_state(const Db& db, const std::string& run_id) {
  return wrap_sql(db, [&]() -> std::optional<RunState> {
    SQLite::Statement st(db.sql(), std::string("SELECT ") + kStateColumns + " FROM runs r WHERE r.id = ?");
    st.bind(1, run_id);
    if (!st.executeStep()) return std::nullopt;
    return read_state(st, Clock::now());
  });
}

std::vector<RunState> run_states(const Db& db, const std::string& sweep) {
  return wrap_sql(db, [&] {
    std::vector<RunState> out;
    const auto now = Clock::now();
    if (sweep.empty()) {
      SQLite::Statement st(db.sql(), std::string("SELECT ") + kStateColumns +
                                         " FROM runs r ORDER BY r.started_at IS NULL, r.started_at, r.id");
      while (st.executeStep()) out.push_back(read_state(st, now));
      return out;
    }
    const int64_t sweep_id = detail::sweep_id_or_throw(db, sweep);
    SQLite::Statement st(db.sql(), std::string("SELECT ") + kStateColumns +
                                       ", sr.position FROM sweep_runs sr JOIN runs r ON r.id = sr.run_id "
                                       "WHERE sr.sweep_id = ? ORDER BY sr.position, r.id");
    st.bind(1, sweep_id);
    while (st.executeStep()) out.push_back(read_state(st, now));
    return out;
  });
}

std::vector<RunState> stale_runs(const Db& db, double max_age_s, const std::string& sweep) {
  std::vector<RunState> out;
  for (auto& s : run_states(db, sweep)) {
    if (s.status == RunStatus::kRunning && (!s.heartbeat_age_s || *s.heartbeat_age_s > max_age_s)) {
      out.push_back(std::move(s));
    }
  }
  return out;
}

std::map<std::string, int64_t> status_counts(const Db& db, const std::string& sweep) {
  return wrap_sql(db, [&] {
    std::map<std::string, int64_t> counts;
    const bool all = sweep.empty();
    SQLite::Statement st(db.sql(), all ? "SELECT status, count(*) FROM runs GROUP BY status"
                                       : "SELECT r.status, count(*) FROM sweep_runs sr JOIN runs r "
                                         "ON r.id = sr.run_id WHERE sr.sweep_id = ? GROUP BY r.status");
    if (!all) st.bind(1, detail::sweep_id_or_throw(db, sweep));
    while (st.executeStep()) counts[st.getColumn(0).getString()] = st.getColumn(1).getInt64();
    return counts;
  });
}

}  // namespace hcx::store
