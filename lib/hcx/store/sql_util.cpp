// Helpers shared by the store's .cpp files (see sql_util.h).
#include "hcx/store/sql_util.h"

#include <cmath>

#include "hcx/error.h"
#include "hcx/store/runs.h"

namespace hcx::store::detail {

bool bump_run(SQLite::Database& db, const std::string& run_id, const std::string& now) {
  SQLite::Statement st(db, "UPDATE runs SET updated_at = ?, revision = revision + 1 WHERE id = ?");
  st.bind(1, now);
  st.bind(2, run_id);
  return st.exec() > 0;
}

void write_summary(SQLite::Database& db, const std::string& run_id, const std::string& key, double value) {
  for (const auto& column : summary_columns()) {
    if (column != key) continue;
    // The column name comes from the fixed list above, never from the caller.
    SQLite::Statement st(db, "UPDATE runs SET " + column + " = ? WHERE id = ?");
    if (std::isnan(value)) {
      st.bind(1);
    } else if (column == "params" || column == "best_val_step") {
      st.bind(1, static_cast<int64_t>(std::llround(value)));
    } else {
      st.bind(1, value);
    }
    st.bind(2, run_id);
    st.exec();
    return;
  }
  SQLite::Statement st(db, "INSERT OR REPLACE INTO run_summary (run_id, key, value) VALUES (?, ?, ?)");
  st.bind(1, run_id);
  st.bind(2, key);
  if (std::isnan(value)) {
    st.bind(3);
  } else {
    st.bind(3, value);
  }
  st.exec();
}

RunStatus stored_status(const std::string& text, const std::string& run_id) {
  const std::optional<RunStatus> status = parse_run_status(text);
  if (!status) throw Error(ErrorKind::kIo, "run " + run_id + ": unknown status \"" + text + "\" in runs.status");
  return *status;
}

std::string text_or_empty(const SQLite::Statement& st, int i) {
  const auto c = st.getColumn(i);
  return c.isNull() ? std::string() : c.getString();
}

std::optional<int64_t> opt_int(const SQLite::Statement& st, int i) {
  const auto c = st.getColumn(i);
  if (c.isNull()) return std::nullopt;
  return c.getInt64();
}

std::optional<double> opt_real(const SQLite::Statement& st, int i) {
  const auto c = st.getColumn(i);
  if (c.isNull()) return std::nullopt;
  return c.getDouble();
}

void bind_text_or_null(SQLite::Statement& st, int i, const std::string& value) {
  if (value.empty()) {
    st.bind(i);
  } else {
    st.bind(i, value);
  }
}

}  // namespace hcx::store::detail
