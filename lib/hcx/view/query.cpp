// `hcx query`'s output: table, CSV or JSON (see query.h).
#include "hcx/view/query.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ostream>

#include <nlohmann/json.hpp>

#include "hcx/error.h"
#include "hcx/util/text.h"

namespace hcx::view {
namespace {

std::string cell_text(const store::Cell& c) {
  if (std::holds_alternative<int64_t>(c)) return std::to_string(std::get<int64_t>(c));
  if (std::holds_alternative<double>(c)) return format_real(std::get<double>(c));
  if (std::holds_alternative<std::string>(c)) return std::get<std::string>(c);
  return "";
}

// A cell of the table format: newlines and tabs escaped, so a row stays one line.
std::string table_text(const store::Cell& c) {
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

bool is_number(const store::Cell& c) { return std::holds_alternative<int64_t>(c) || std::holds_alternative<double>(c); }

}  // namespace

std::string format_real(double v) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".eni") == std::string::npos) s += ".0";  // "3" -> "3.0"; inf/nan stay as they are
  return s;
}

void write_table(const store::QueryResult& r, std::ostream& out) {
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

void write_csv(const store::QueryResult& r, std::ostream& out) {
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

void write_json(const store::QueryResult& r, std::ostream& out) {
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
      const store::Cell& cell = r.rows[i][c];
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

int query_command(const QueryOptions& opts, std::ostream& out) {
  if (opts.format != "table" && opts.format != "csv" && opts.format != "json") {
    throw Error(ErrorKind::kBadInput, "--format: expected table, csv or json, got \"" + opts.format + "\"");
  }
  if (opts.schema == !opts.sql.empty()) {
    throw Error(ErrorKind::kBadInput, opts.schema ? "hcx query: give either a statement or --schema, not both"
                                                  : "hcx query: give a SQL statement, or --schema for the tables");
  }
  const store::Db db = store::open_db(opts.db, store::OpenMode::kReadOnly);
  const store::QueryResult r = opts.schema ? store::schema_result(db) : store::run_sql(db, opts.sql);
  if (opts.format == "csv") {
    write_csv(r, out);
  } else if (opts.format == "json") {
    write_json(r, out);
  } else {
    write_table(r, out);
  }
  return 0;
}

}  // namespace hcx::view
