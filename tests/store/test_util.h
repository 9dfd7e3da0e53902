// Helpers shared by the store tests: a scratch directory, row counts and a
// full dump of a database's tables (to prove that an operation changed nothing).
#pragma once

#include <filesystem>
#include <string>

#include <SQLiteCpp/Statement.h>

#include "common/temp_dir.h"
#include "hcx/store/db.h"

namespace hcx::store::testing {

using hcx::test::TempDir;  // the scratch directory (common/temp_dir.h)

// The single integer of `sql`.
inline int64_t count(const Db& db, const std::string& sql) {
  SQLite::Statement st(db.sql(), sql);
  st.executeStep();
  return st.getColumn(0).getInt64();
}

// Every row of every table, sorted, as text: equal dumps mean equal contents.
inline std::string dump_tables(const Db& db) {
  std::string out;
  SQLite::Statement tables(db.sql(), "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  while (tables.executeStep()) {
    const std::string t = tables.getColumn(0).getString();
    out += "## " + t + "\n";
    const int64_t ncols = count(db, "SELECT count(*) FROM pragma_table_info('" + t + "')");
    std::string order;
    for (int64_t c = 1; c <= ncols; ++c) order += (c > 1 ? ", " : "") + std::to_string(c);
    SQLite::Statement rows(db.sql(), "SELECT * FROM " + t + " ORDER BY " + order);
    while (rows.executeStep()) {
      for (int c = 0; c < rows.getColumnCount(); ++c) {
        const auto col = rows.getColumn(c);
        out += (c ? "|" : "") + (col.isNull() ? std::string("NULL") : col.getString());
      }
      out += "\n";
    }
  }
  return out;
}

}  // namespace hcx::store::testing
