// SqliteSink: buffered metric rows, one transaction per log interval.
#include "hcx/store/sqlite_sink.h"

#include <cmath>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "hcx/error.h"
#include "hcx/store/sql_util.h"
#include "hcx/store/timestamp.h"

namespace hcx::store {
namespace {

// Binds a real, or NULL for NaN (SQLite stores NaN as NULL anyway; say so).
void bind_real(SQLite::Statement& st, int i, double v) {
  if (std::isnan(v)) {
    st.bind(i);
  } else {
    st.bind(i, v);
  }
}

std::string values_json(const std::vector<double>& values) {
  return nlohmann::json(values).dump();
}

}  // namespace

SqliteSink::SqliteSink(Db& db, std::string run_id, std::optional<int64_t> attempt)
    : db_(db), run_id_(std::move(run_id)), attempt_(attempt) {}

SqliteSink::~SqliteSink() {
  if (lost_ || (pending() == 0 && !progress_)) return;
  try {
    flush();
  } catch (const std::exception& e) {
    spdlog::warn("run {}: {} rows lost at shutdown: {}", run_id_, pending(), e.what());
  }
}

void SqliteSink::scalar(int64_t step, std::string_view name, double value) {
  scalars_.push_back({step, std::string(name), value});
}
void SqliteSink::spike(const metrics::SpikeRow& row) { spikes_.push_back(row); }
void SqliteSink::eval(int64_t step, std::string_view task, std::string_view metric, double value) {
  evals_.push_back({step, std::string(task), std::string(metric), value});
}
void SqliteSink::layer_stat(int64_t step, int64_t layer, std::string_view name, double value) {
  layer_stats_.push_back({step, layer, std::string(name), value});
}
void SqliteSink::matrix(const metrics::MatrixRow& row) { matrices_.push_back(row); }
void SqliteSink::summary(std::string_view key, double value) {
  summaries_.push_back({std::string(key), value});
}
void SqliteSink::progress(int64_t step, int64_t tokens) { progress_ = {step, tokens}; }

std::size_t SqliteSink::pending() const {
  return scalars_.size() + spikes_.size() + evals_.size() + layer_stats_.size() + matrices_.size() +
         summaries_.size();
}

void SqliteSink::clear_buffer() {
  scalars_.clear();
  spikes_.clear();
  evals_.clear();
  layer_stats_.clear();
  matrices_.clear();
  summaries_.clear();
  progress_.reset();
}

// Statements are prepared per flush: with a handful of tables that costs
// microseconds, and keeps the sink free of statement state across retries.
void SqliteSink::write_run_row(const std::optional<std::pair<int64_t, int64_t>>& progress) {
  const std::string now = utc_iso();
  SQLite::Statement run(db_.sql(), progress ? "UPDATE runs SET step = ?1, tokens = ?2, heartbeat_at = ?3, "
                                              "updated_at = ?3, revision = revision + 1 "
                                              "WHERE id = ?4 AND (?5 IS NULL OR attempt = ?5)"
                                            : "UPDATE runs SET heartbeat_at = ?3, updated_at = ?3, "
                                              "revision = revision + 1 WHERE id = ?4 AND (?5 IS NULL OR attempt = ?5)");
  if (progress) {
    run.bind(1, progress->first);
    run.bind(2, progress->second);
  }
  run.bind(3, now);
  run.bind(4, run_id_);
  if (attempt_) {
    run.bind(5, *attempt_);
  } else {
    run.bind(5);
  }
  if (run.exec() > 0 || !attempt_) return;
  SQLite::Statement who(db_.sql(), "SELECT attempt, pid, host FROM runs WHERE id = ?");
  who.bind(1, run_id_);
  std::string holder = "its row is gone";
  if (who.executeStep())
    holder = "attempt " + std::to_string(who.getColumn(0).getInt64()) + " (pid " + who.getColumn(1).getString() +
             " on " + who.getColumn(2).getString() + ") holds it now";
  throw Error(ErrorKind::kBusy, db_.path().string() + ": run " + run_id_ + " was taken over: " + holder +
                                    "; this process (attempt " + std::to_string(*attempt_) +
                                    ") stops without writing");
}

void SqliteSink::write_buffer() {
  SQLite::Database& sql = db_.sql();
  write_run_row(progress_);  // first: a run taken over gets none of this flush's rows
  if (!scalars_.empty()) {
    SQLite::Statement st(sql, "INSERT OR REPLACE INTO metrics (run_id, name, step, value) VALUES (?, ?, ?, ?)");
    for (const auto& r : scalars_) {
      st.bind(1, run_id_);
      st.bind(2, r.name);
      st.bind(3, r.step);
      bind_real(st, 4, r.value);
      st.exec();
      st.reset();
    }
  }
  if (!spikes_.empty()) {
    SQLite::Statement st(sql, "INSERT OR REPLACE INTO spikes (run_id, metric, step, value, mean, std, score) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?)");
    for (const auto& r : spikes_) {
      st.bind(1, run_id_);
      st.bind(2, r.metric);
      st.bind(3, r.step);
      st.bind(4, r.value);
      st.bind(5, r.mean);
      st.bind(6, r.std);
      st.bind(7, r.score);
      st.exec();
      st.reset();
    }
  }
  if (!evals_.empty()) {
    SQLite::Statement st(sql, "INSERT OR REPLACE INTO evals (run_id, step, task, metric, value) "
                              "VALUES (?, ?, ?, ?, ?)");
    for (const auto& r : evals_) {
      st.bind(1, run_id_);
      st.bind(2, r.step);
      st.bind(3, r.task);
      st.bind(4, r.metric);
      st.bind(5, r.value);
      st.exec();
      st.reset();
    }
  }
  if (!layer_stats_.empty()) {
    SQLite::Statement st(sql, "INSERT OR REPLACE INTO layer_stats (run_id, step, layer, name, value) "
                              "VALUES (?, ?, ?, ?, ?)");
    for (const auto& r : layer_stats_) {
      st.bind(1, run_id_);
      st.bind(2, r.step);
      st.bind(3, r.layer);
      st.bind(4, r.name);
      st.bind(5, r.value);
      st.exec();
      st.reset();
    }
  }
  if (!matrices_.empty()) {
    SQLite::Statement st(sql, "INSERT OR REPLACE INTO hc_matrices "
                              "(run_id, step, layer, sublayer, name, rows, cols, values_json) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    for (const auto& r : matrices_) {
      st.bind(1, run_id_);
      st.bind(2, r.step);
      st.bind(3, r.layer);
      st.bind(4, r.sublayer);
      st.bind(5, r.name);
      st.bind(6, r.rows);
      st.bind(7, r.cols);
      st.bind(8, values_json(r.values));
      st.exec();
      st.reset();
    }
  }
  for (const auto& s : summaries_) detail::write_summary(sql, run_id_, s.key, s.value);
}

void SqliteSink::fenced_txn(const std::function<void()>& fn) {
  if (lost_) throw Error(ErrorKind::kBusy, "run " + run_id_ + ": taken over by a newer attempt; nothing written");
  try {
    write_txn(db_, fn);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kBusy) lost_ = true;
    throw;
  }
}

void SqliteSink::flush() {
  fenced_txn([this] { write_buffer(); });
  clear_buffer();
}

void SqliteSink::resume_from(int64_t step) {
  flush();
  fenced_txn([&] {
    write_run_row(std::nullopt);  // fenced, before anything is deleted
    for (const char* table : {"metrics", "spikes", "evals", "layer_stats", "hc_matrices"}) {
      SQLite::Statement st(db_.sql(), std::string("DELETE FROM ") + table + " WHERE run_id = ? AND step > ?");
      st.bind(1, run_id_);
      st.bind(2, step);
      st.exec();
    }
    SQLite::Statement run(db_.sql(), "UPDATE runs SET step = ?1, updated_at = ?2, revision = revision + 1 "
                                     "WHERE id = ?3");
    run.bind(1, step);
    run.bind(2, utc_iso());
    run.bind(3, run_id_);
    run.exec();
  });
}

}  // namespace hcx::store
