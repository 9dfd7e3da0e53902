// Helpers shared by the store tests: a scratch directory, row counts and a
// full dump of a database's tables (to prove that an operation changed nothing).
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include <SQLiteCpp/Statement.h>

#include "hcx/store/db.h"

namespace hcx::store::testing {

// A fresh directory under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("hcx_store_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

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
