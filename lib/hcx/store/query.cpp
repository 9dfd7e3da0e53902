// `hcx query`: one read-only statement, rendered as table, CSV or JSON.
#include "hcx/store/query.h"

#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <ostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "hcx/error.h"
#include "hcx/store/schema.h"
#include "hcx/util/text.h"

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

std::string cell_text(const Cell& c) {
  if (std::holds_alternative<int64_t>(c)) return std::to_string(std::get<int64_t>(c));
  if (std::holds_alternative<double>(c)) return format_real(std::get<double>(c));
  if (std::holds_alternative<std::string>(c)) return std::get<std::string>(c);
  return "";
}

// A cell of the table format: newlines and tabs escaped, so a row stays one line.
std::string table_text(const Cell& c) {
  std::string s = cell_text(c);
  if (s.find_first_of("\n\r\t") == std::string::npos) return s;
  std::string e;
  for (char ch : s) {
    if (ch == '\n') {
      e += "\\n";
    } else if (ch == '\r') {
      e += "\\r";
    } else if (ch == '\t') {
      e += "\\t";
    } else {
      e += ch;
    }
  }
  return e;
}

bool is_number(const Cell& c) {
  return std::holds_alternative<int64_t>(c) || std::holds_alternative<double>(c);
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

std::string format_real(double v) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".eni") == std::string::npos) s += ".0";  // "3" -> "3.0"; inf/nan stay as they are
  return s;
}

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

void write_table(const QueryResult& r, std::ostream& out) {
  const std::size_t n = r.columns.size();
  std::vector<std::vector<std::string>> texts = {r.columns};
  std::vector<bool> numeric(n, false);  // a column of numbers (NULLs aside) is right-aligned, its header too
  for (const auto& row : r.rows) {
    texts.emplace_back();
    for (const auto& cell : row) texts.back().push_back(table_text(cell));
  }
  for (std::size_t c = 0; c < n; ++c) {
    bool any = false, all = true;
    for (const auto& row : r.rows) {
      if (std::holds_alternative<std::monostate>(row[c])) continue;
      any = true;
      all = all && is_number(row[c]);
    }
    numeric[c] = any && all;
  }
  const std::vector<std::size_t> widths = util::column_widths(texts);
  std::vector<std::string> rule;
  for (std::size_t w : widths) rule.emplace_back(w, '-');
  out << util::aligned_line(r.columns, widths, numeric) << "\n" << util::aligned_line(rule, widths, {}) << "\n";
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    std::vector<bool> right;  // each number right-aligned, in whatever column
    for (const auto& cell : r.rows[i]) right.push_back(is_number(cell));
    out << util::aligned_line(texts[i + 1], widths, right) << "\n";
  }
}

void write_csv(const QueryResult& r, std::ostream& out) {
  auto line = [&](const std::vector<std::string>& fields) {
    for (std::size_t c = 0; c < fields.size(); ++c) out << (c ? "," : "") << util::csv_field(fields[c]);
    out << "\n";
  };
  line(r.columns);
  for (const auto& row : r.rows) {
    std::vector<std::string> fields;
    for (const auto& cell : row) fields.push_back(cell_text(cell));
    line(fields);
  }
}

void write_json(const QueryResult& r, std::ostream& out) {
  std::vector<std::string> keys;
  for (const auto& name : r.columns) {
    std::string key = name;
    for (int k = 2; std::find(keys.begin(), keys.end(), key) != keys.end(); ++k) key = name + ":" + std::to_string(k);
    keys.push_back(key);
  }
  if (r.rows.empty()) {
    out << "[]\n";
    return;
  }
  out << "[\n";
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    // Written by hand so reals keep their shortest form and a ".0".
    std::string obj = "{";
    for (std::size_t c = 0; c < keys.size(); ++c) {
      const Cell& cell = r.rows[i][c];
      obj += (c ? ", " : "") + nlohmann::json(keys[c]).dump() + ": ";
      if (std::holds_alternative<int64_t>(cell)) {
        obj += std::to_string(std::get<int64_t>(cell));
      } else if (std::holds_alternative<double>(cell)) {
        const double v = std::get<double>(cell);
        obj += std::isfinite(v) ? format_real(v) : "null";
      } else if (std::holds_alternative<std::string>(cell)) {
        obj += nlohmann::json(std::get<std::string>(cell)).dump(-1, ' ', false,
                                                                nlohmann::json::error_handler_t::replace);
      } else {
        obj += "null";
      }
    }
    out << "  " << obj << "}" << (i + 1 < r.rows.size() ? ",\n" : "\n");
  }
  out << "]\n";
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

int query_command(const QueryOptions& opts, std::ostream& out) {
  if (opts.format != "table" && opts.format != "csv" && opts.format != "json") {
    throw Error(ErrorKind::kBadInput, "--format: expected table, csv or json, got \"" + opts.format + "\"");
  }
  if (opts.schema == !opts.sql.empty()) {
    throw Error(ErrorKind::kBadInput, opts.schema ? "hcx query: give either a statement or --schema, not both"
                                                  : "hcx query: give a SQL statement, or --schema for the tables");
  }
  const Db db = open_db(opts.db, OpenMode::kReadOnly);
  const QueryResult r = opts.schema ? schema_result(db) : run_sql(db, opts.sql);
  if (opts.format == "csv") {
    write_csv(r, out);
  } else if (opts.format == "json") {
    write_json(r, out);
  } else {
    write_table(r, out);
  }
  return 0;
}

}  // namespace hcx::store
