// `hcx query`: one read-only SQL statement over the results database, printed
// as an aligned table, CSV or JSON (README "Runs, sweeps and the database").
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <variant>
#include <vector>

#include "hcx/store/db.h"

namespace hcx::store {

// A result cell with SQLite's type: NULL, INTEGER, REAL or TEXT. A BLOB is
// shown as text, X'0A1B'.
using Cell = std::variant<std::monostate, int64_t, double, std::string>;

struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<Cell>> rows;
};

// Runs exactly one SQL statement on `db` and returns all its rows. Throws
// Error(kRunFailed) "hcx query is read-only: ..." for a statement that would
// write (checked with sqlite3_stmt_readonly before it runs; a read-only
// connection and PRAGMA query_only refuse it again underneath),
// Error(kBadInput) for an empty text or more than one statement, and
// Error(kRunFailed) with SQLite's message for any other failure.
QueryResult run_sql(const Db& db, const std::string& sql);

// The tables and columns of `db` (PRAGMA table_info of every table, in table
// then column order) with the comment schema.h writes beside each: columns
// table, column, type, not_null, primary_key (position in the key, 0 if
// none), comment; a table's own comment is on its row with column "".
QueryResult schema_result(const Db& db);

// Renderers. All end every line with "\n".
//  table: a header, a rule of dashes, then the rows; columns separated by two
//    spaces, numbers right-aligned, text left-aligned, NULL empty, no
//    trailing blanks; newlines and tabs in values show as \n and \t. Widths
//    count UTF-8 characters.
//  csv: a header line, then the rows; RFC 4180 quoting (a field holding a
//    comma, a double quote, CR or LF is quoted, quotes doubled); NULL is an
//    empty field; LF line ends.
//  json: a list of objects, one per row and per line, keys in column order
//    (a repeated column name gets ":2", ":3"...), integers and reals as JSON
//    numbers, NULL as null, text as strings.
// Reals print in their shortest round-trip form, always with a '.' or an
// exponent ("3.0", "0.1", "1e-05") so they stay reals.
void write_table(const QueryResult& r, std::ostream& out);
void write_csv(const QueryResult& r, std::ostream& out);
void write_json(const QueryResult& r, std::ostream& out);

// A real in the form described above.
std::string format_real(double v);

// Options of `hcx query`.
struct QueryOptions {
  std::string sql;
  bool schema = false;           // --schema: schema_result() instead of a statement
  std::string db = "results/hcx.db";
  std::string format = "table";  // table | csv | json
};

// `hcx query`: opens opts.db read-only (never creating it: a missing file is
// Error(kIo) naming it), runs the statement and prints it to `out` in
// opts.format (anything else is Error(kBadInput)). Returns 0; failures throw
// as run_sql() does. Exactly one of a statement and opts.schema (else
// Error(kBadInput)).
int query_command(const QueryOptions& opts, std::ostream& out);

}  // namespace hcx::store
