// `hcx query`'s statement: one read-only SQL statement over the results
// database, or its schema, as rows of typed cells (printed by view/query.h).
#pragma once

#include <cstdint>
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

}  // namespace hcx::store
