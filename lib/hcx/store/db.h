// A connection to the results database (docs/architecture.md, "Who owns each table"):
// opening, schema migration, and write transactions that survive a busy
// database. Every other file of store/ works through a Db.
//
// Concurrency: a Db is one SQLite connection; use it from one thread at a
// time. Many processes may open the same file at once: the main database runs
// in WAL mode, so readers never block writers, and writers queue on BEGIN
// IMMEDIATE with a busy timeout plus retries with backoff. WAL keeps its index
// in shared memory, so every connection to a WAL file must be on one host; a
// shard that cluster nodes write over a network file system uses the rollback
// journal instead (Journal::kRollback). Never carry a Db across fork(): open
// a new one in the child.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include <SQLiteCpp/Database.h>

namespace hcx::store {

enum class OpenMode {
  kReadWrite,  // creates the file and its parent directories when missing; migrates
  kReadOnly,   // SQLITE_OPEN_READONLY plus PRAGMA query_only; the file must exist
};

// The journal a read-write open sets (persistent in the file). A read-only
// open never changes it.
enum class Journal {
  kWal,       // journal_mode=WAL, synchronous=NORMAL: the main database, all connections on one host
  kRollback,  // journal_mode=DELETE, synchronous=FULL: a shard on a network file system; needs only
              // POSIX advisory locks that work across nodes (README "Slurm on a shared filesystem")
};

// How long writers wait for a busy database before giving up, in total.
constexpr int kBusyTimeoutMs = 5000;     // SQLite's own wait inside one statement
constexpr int kBusyRetryBudgetMs = 120000;  // retries of a whole transaction, with backoff

class Db {
 public:
  Db(std::filesystem::path path, std::unique_ptr<SQLite::Database> db, OpenMode mode,
     int schema_version);
  Db(Db&&) noexcept;
  Db& operator=(Db&&) noexcept;
  ~Db();

  const std::filesystem::path& path() const { return path_; }
  OpenMode mode() const { return mode_; }
  // PRAGMA user_version as found after opening (kSchemaVersion after a
  // read-write open; a read-only open may see an older, unmigrated file).
  int schema_version() const { return schema_version_; }
  // The SQLiteCpp connection, for statements of store/ and for tests.
  SQLite::Database& sql() { return *db_; }
  const SQLite::Database& sql() const { return *db_; }
  // True while write_txn() runs on this connection.
  bool in_transaction() const { return txn_depth_ > 0; }

 private:
  friend void write_txn(Db& db, const std::function<void()>& fn);
  friend Db open_db(const std::filesystem::path& path, OpenMode mode, Journal journal);
  std::filesystem::path path_;
  std::unique_ptr<SQLite::Database> db_;
  OpenMode mode_;
  int schema_version_;
  int txn_depth_ = 0;
};

// Opens the database at `path`.
//  kReadWrite: creates missing parent directories and the file, switches to
//    `journal` (see Journal; a WAL file opened with kRollback leaves WAL,
//    which needs it to be the only connection: a busy file is retried),
//    enables foreign keys and applies the missing migrations of schema.h in
//    one BEGIN IMMEDIATE transaction. Safe to call from many processes at
//    once: one migrates, the others wait and find the work done.
//  kReadOnly: the file must exist (it is never created); nothing is migrated,
//    and `journal` is ignored.
// Both refuse a database whose user_version is newer than this binary's
// kSchemaVersion. Throws Error(kIo) naming `path` on any failure.
Db open_db(const std::filesystem::path& path, OpenMode mode = OpenMode::kReadWrite, Journal journal = Journal::kWal);

// Another read-only connection to `main`'s file, for one thread reading in
// bulk (report/load.cpp reads curves on up to 4): without SQLite's per-call
// mutex (SQLITE_OPEN_NOMUTEX), which otherwise costs a lock and an unlock per
// column read, a third of the time of a bulk read, and with the file mapped
// into memory. Never writes. Throws Error(kIo) naming the path.
Db open_bulk_reader(const Db& main);

// This database file's identity: 32 hex digits made when the file was
// created (db_meta.db_id), so a copy keeps it and a new file at the same path
// gets a new one. Checkpoints record it (train/checkpoint.h). Throws
// Error(kIo) naming the path when it cannot be read.
std::string database_id(const Db& db);

// Runs `fn` inside BEGIN IMMEDIATE ... COMMIT on `db`. When SQLite reports
// SQLITE_BUSY or SQLITE_LOCKED (after its own busy timeout) the transaction is
// rolled back and `fn` runs again after a growing, jittered pause, for up to
// kBusyRetryBudgetMs in total; so `fn` must be safe to repeat (touch C++ state
// only after write_txn returns). Called inside another write_txn on the same
// Db, `fn` simply joins the outer transaction. Any other failure rolls back
// and throws Error(kIo) naming the path; an hcx::Error thrown by `fn` rolls
// back and propagates unchanged.
void write_txn(Db& db, const std::function<void()>& fn);

// True when `e` is SQLITE_BUSY or SQLITE_LOCKED (any extended code).
bool is_busy(const SQLite::Exception& e);

// Runs `fn` and rethrows a SQLite::Exception as Error(kIo) "<path>: <what>".
template <class F>
auto wrap_sql(const Db& db, F&& fn) -> decltype(fn());

// Error(kIo) for `db`'s path and a SQLite failure.
[[noreturn]] void throw_sql_error(const Db& db, const std::exception& e);

template <class F>
auto wrap_sql(const Db& db, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const SQLite::Exception& e) {
    throw_sql_error(db, e);
  }
}

}  // namespace hcx::store
