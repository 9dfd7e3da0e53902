// Streaming metric rows for exports (see report_queries.h).
#include "hcx/store/report_queries.h"

#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include "hcx/error.h"

namespace hcx::store {

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
