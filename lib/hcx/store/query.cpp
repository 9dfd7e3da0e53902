// `hcx query`'s statement: one read-only statement run, and the schema (see
// query.h); view/query.cpp prints them.
#include "hcx/store/query.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>


#include "hcx/error.h"
#include "hcx/store/schema.h"

namespace hcx::store {
namespace {

struct StmtGuard {
  sqlite3_stmt* st = nullptr;
  ~StmtGuard() { sqlite3_finalize(st); }
};

Cell read_cell(sqlite3_stmt* st, int c) {
  switch (sqlite3_column_type(st, c)) {
    case SQLITE_NULL: return std::monostate{};
    case SQLITE_INTEGER: return static_cast<int64_t>(sqlite3_column_int64(st, c));
    case SQLITE_FLOAT: return sqlite3_column_double(st, c);
    case SQLITE_BLOB: {
      const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(st, c));
      std::string s = "X'";
      for (int i = 0, n = sqlite3_column_bytes(st, c); i < n; ++i) {
        char buf[3];
        std::snprintf(buf, sizeof buf, "%02X", p[i]);
        s += buf;
      }
      return s + "'";
    }
    default: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
      return std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(st, c)));
    }
  }
}

// The comments of schema.h's migrations: (table, column) -> text, and
// (table, "") for the comment on a CREATE TABLE line. Read from the
// statements themselves, so a new column documents itself where it is added;
// SQLite keeps no comment of an ALTER TABLE.
std::map<std::pair<std::string, std::string>, std::string> schema_comments() {
  std::map<std::pair<std::string, std::string>, std::string> out;
  auto words = [](const std::string& s) {
    std::istringstream in(s);
    std::vector<std::string> w;
    for (std::string t; in >> t;) w.push_back(t);
    return w;
  };
  for (const char* migration : kMigrations) {
    std::istringstream in(migration);
    std::string table;
    for (std::string line; std::getline(in, line);) {
      const size_t dash = line.find("--");
      const std::string code = line.substr(0, dash);
      std::string comment = dash == std::string::npos ? "" : line.substr(dash + 2);
      comment.erase(0, comment.find_first_not_of(' '));
      const std::vector<std::string> w = words(code);
      if (w.empty()) continue;
      if (w.size() >= 3 && w[0] == "CREATE" && w[1] == "TABLE") {
        table = w[2];
        if (!comment.empty()) out[{table, ""}] = comment;
      } else if (w.size() >= 6 && w[0] == "ALTER" && w[1] == "TABLE" && w[3] == "ADD" && w[4] == "COLUMN") {
        if (!comment.empty()) out[{w[2], w[5]}] = comment;
      } else if (w[0] == ")" || w[0].rfind(");", 0) == 0 || w[0] == "CREATE" || w[0] == "INSERT") {
        table.clear();
      } else if (!table.empty() && !comment.empty()) {
        out[{table, w[0]}] = comment;
      }
    }
  }
  return out;
}

}  // namespace

QueryResult run_sql(const Db& db, const std::string& sql) {
  sqlite3* h = db.sql().getHandle();
  StmtGuard g;
  const char* tail = nullptr;
  if (sqlite3_prepare_v2(h, sql.c_str(), static_cast<int>(sql.size()), &g.st, &tail) != SQLITE_OK) {
    throw Error(ErrorKind::kRunFailed, std::string("query failed: ") + sqlite3_errmsg(h));
  }
  if (!g.st) throw Error(ErrorKind::kBadInput, "hcx query: the SQL text holds no statement");
  {  // Only comments, blanks and semicolons may follow the statement.
    StmtGuard next;
    const std::string rest(tail);
    const int rc = sqlite3_prepare_v2(h, rest.c_str(), static_cast<int>(rest.size()), &next.st, nullptr);
    if (rc != SQLITE_OK || next.st) {
      throw Error(ErrorKind::kBadInput, "hcx query runs one statement at a time; found more after: " +
                                            std::string(sqlite3_sql(g.st)));
    }
  }
  if (!sqlite3_stmt_readonly(g.st)) {
    throw Error(ErrorKind::kRunFailed, "hcx query is read-only: this statement would modify the database: " +
                                           std::string(sqlite3_sql(g.st)));
  }
  QueryResult r;
  const int n = sqlite3_column_count(g.st);
  for (int c = 0; c < n; ++c) r.columns.emplace_back(sqlite3_column_name(g.st, c));
  for (;;) {
    const int rc = sqlite3_step(g.st);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) {
      const std::string msg = sqlite3_errmsg(h);
      if ((rc & 0xff) == SQLITE_READONLY) throw Error(ErrorKind::kRunFailed, "hcx query is read-only: " + msg);
      throw Error(ErrorKind::kRunFailed, "query failed: " + msg);
    }
    std::vector<Cell> row;
    row.reserve(static_cast<std::size_t>(n));
    for (int c = 0; c < n; ++c) row.push_back(read_cell(g.st, c));
    r.rows.push_back(std::move(row));
  }
  return r;
}

QueryResult schema_result(const Db& db) {
  const QueryResult cols = run_sql(
      db,
      "SELECT m.name, p.name, p.type, p.\"notnull\", p.pk FROM sqlite_master m, pragma_table_info(m.name) p "
      "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid");
  const auto comments = schema_comments();
  auto comment = [&](const std::string& table, const std::string& column) -> Cell {
    const auto it = comments.find({table, column});
    return it == comments.end() ? Cell{std::monostate{}} : Cell{it->second};
  };
  QueryResult r;
  r.columns = {"table", "column", "type", "not_null", "primary_key", "comment"};
  std::string table;
  for (const auto& row : cols.rows) {
    const std::string& t = std::get<std::string>(row[0]);
    if (t != table) {
      table = t;
      if (comments.count({t, ""})) r.rows.push_back({t, std::string(), std::monostate{}, std::monostate{},
                                                     std::monostate{}, comment(t, "")});
    }
    const std::string& c = std::get<std::string>(row[1]);
    r.rows.push_back({t, c, row[2], row[3], row[4], comment(t, c)});
  }
  return r;
}

}  // namespace hcx::store
