// Small helpers shared by the .cpp files of store/ (internal: other modules
// use the public headers). Statements here throw SQLite::Exception so that
// write_txn() can tell a busy database from other failures.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "hcx/run_status.h"
#include "hcx/store/db.h"

namespace hcx::store::detail {

// Marks run `run_id` as written at `now` (updated_at, revision + 1). Returns
// false when the run does not exist.
bool bump_run(SQLite::Database& db, const std::string& run_id, const std::string& now);

// Stores a summary figure: a runs column for the keys of summary_columns(),
// a run_summary row otherwise. Does not bump the run.
void write_summary(SQLite::Database& db, const std::string& run_id, const std::string& key, double value);

// Column `i` of the current row as text ("" when NULL), or as an optional number.
std::string text_or_empty(const SQLite::Statement& st, int i);
std::optional<int64_t> opt_int(const SQLite::Statement& st, int i);
std::optional<double> opt_real(const SQLite::Statement& st, int i);

// Binds `value` at `i`, or NULL when it is empty.
void bind_text_or_null(SQLite::Statement& st, int i, const std::string& value);

// The status that runs.status holds as `text` for run `run_id`; Error(kIo)
// naming the run for a text that is none of the six (a newer hcx's row).
RunStatus stored_status(const std::string& text, const std::string& run_id);

// The id of sweep `sweep`; Error(kBadInput) naming the nearest known sweep
// when there is none (defined in runs.cpp).
int64_t sweep_id_or_throw(const Db& db, const std::string& sweep);

}  // namespace hcx::store::detail
