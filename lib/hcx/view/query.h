// `hcx query`'s output: a statement's rows (store/query.h) printed as an
// aligned table, CSV or JSON (README "Runs, sweeps and the database").
#pragma once

#include <iosfwd>
#include <string>

#include "hcx/store/query.h"

namespace hcx::view {

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
void write_table(const store::QueryResult& r, std::ostream& out);
void write_csv(const store::QueryResult& r, std::ostream& out);
void write_json(const store::QueryResult& r, std::ostream& out);

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

}  // namespace hcx::view
