// Opening and migrating the results database; busy-proof write transactions.
#include "hcx/store/db.h"

#include <sqlite3.h>

#include <chrono>
#include <random>
#include <system_error>
#include <thread>

#include <spdlog/spdlog.h>

#include "hcx/error.h"
#include "hcx/store/schema.h"

namespace hcx::store {
namespace {

using Steady = std::chrono::steady_clock;

// A growing, jittered pause: two writers that collided should not collide
// again in lockstep.
void back_off(int attempt) {
  thread_local std::mt19937 rng{std::random_device{}()};
  const int cap_ms = std::min(1000, 5 << std::min(attempt, 8));
  std::uniform_int_distribution<int> pause(cap_ms / 2, cap_ms);
  std::this_thread::sleep_for(std::chrono::milliseconds(pause(rng)));
}

// Runs fn, retrying while SQLite reports busy, within the retry budget.
template <class F>
auto retry_busy(const std::filesystem::path& path, F&& fn) -> decltype(fn()) {
  const auto deadline = Steady::now() + std::chrono::milliseconds(kBusyRetryBudgetMs);
  for (int attempt = 1;; ++attempt) {
    try {
      return fn();
    } catch (const SQLite::Exception& e) {
      if (!is_busy(e) || Steady::now() > deadline) {
        throw Error(ErrorKind::kIo, path.string() + ": " + e.what());
      }
      back_off(attempt);
    }
  }
}

void rollback_quietly(SQLite::Database& db) {
  try {
    db.exec("ROLLBACK");
  } catch (const SQLite::Exception&) {
    // SQLite may already have rolled back (e.g. on SQLITE_FULL); nothing to undo.
  }
}

int read_user_version(SQLite::Database& db) {
  return db.execAndGet("PRAGMA user_version").getInt();
}

void refuse_newer(const std::filesystem::path& path, int version) {
  if (version > kSchemaVersion) {
    throw Error(ErrorKind::kIo, path.string() + ": database schema version " + std::to_string(version) +
                                    " is newer than this hcx supports (" + std::to_string(kSchemaVersion) +
                                    "); use a newer hcx to open it");
  }
}

std::unique_ptr<SQLite::Database> connect(const std::filesystem::path& path, int flags) {
  try {
    return std::make_unique<SQLite::Database>(path.string(), flags | SQLite::OPEN_URI, kBusyTimeoutMs);
  } catch (const SQLite::Exception& e) {
    throw Error(ErrorKind::kIo, path.string() + ": cannot open database: " + e.what());
  }
}

Db open_read_write(const std::filesystem::path& path, Journal journal) {
  if (path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      throw Error(ErrorKind::kIo, path.string() + ": cannot create directory " +
                                      path.parent_path().string() + ": " + ec.message());
    }
  }
  auto sql = connect(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  // Switching the journal takes an exclusive lock for a moment; a concurrent
  // opener may see it busy, and one that finds it set already does nothing.
  const bool wal = journal == Journal::kWal;
  const std::string want = wal ? "wal" : "delete";
  const std::string found_journal =
      retry_busy(path, [&] { return sql->execAndGet("PRAGMA journal_mode=" + want).getString(); });
  if (found_journal != want) {
    throw Error(ErrorKind::kIo, path.string() + ": cannot switch to journal_mode " + want + " (it is " +
                                    found_journal + ")");
  }
  retry_busy(path, [&] {
    // WAL: NORMAL is durable across crashes without an fsync per commit; the
    // rollback journal needs FULL for that.
    sql->exec(wal ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL");
    sql->exec("PRAGMA foreign_keys=ON");
  });
  const int found = retry_busy(path, [&] { return read_user_version(*sql); });
  refuse_newer(path, found);
  return Db(path, std::move(sql), OpenMode::kReadWrite, found);
}

// Applies the missing migrations in one BEGIN IMMEDIATE transaction. The
// version is read again inside it: another process may have migrated meanwhile.
void migrate(Db& db) {
  int from = db.schema_version();
  write_txn(db, [&] {
    from = read_user_version(db.sql());
    refuse_newer(db.path(), from);
    for (int v = from; v < kSchemaVersion; ++v) db.sql().exec(kMigrations[v]);
    db.sql().exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
  });
  if (from < kSchemaVersion) {
    spdlog::debug("{}: migrated schema from version {} to {}", db.path().string(), from, kSchemaVersion);
  }
}

Db open_read_only(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw Error(ErrorKind::kIo, path.string() + ": no such database file");
  }
  auto sql = connect(path, SQLite::OPEN_READONLY);
  const int found = retry_busy(path, [&] {
    sql->exec("PRAGMA query_only=1");
    return read_user_version(*sql);
  });
  refuse_newer(path, found);
  return Db(path, std::move(sql), OpenMode::kReadOnly, found);
}

}  // namespace

Db::Db(std::filesystem::path path, std::unique_ptr<SQLite::Database> db, OpenMode mode, int schema_version)
    : path_(std::move(path)), db_(std::move(db)), mode_(mode), schema_version_(schema_version) {}
Db::Db(Db&&) noexcept = default;
Db& Db::operator=(Db&&) noexcept = default;
Db::~Db() = default;

bool is_busy(const SQLite::Exception& e) {
  const int primary = e.getErrorCode() & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

void throw_sql_error(const Db& db, const std::exception& e) {
  throw Error(ErrorKind::kIo, db.path().string() + ": " + e.what());
}

Db open_bulk_reader(const Db& main) {
  try {
    auto sql = std::make_unique<SQLite::Database>(main.path().string(), SQLite::OPEN_READONLY | SQLite::OPEN_NOMUTEX,
                                                  kBusyTimeoutMs);
    sql->exec("PRAGMA query_only = ON");
    sql->exec("PRAGMA mmap_size = 4294967296");  // map pages instead of copying them in: ~15% of a bulk read
    return Db(main.path(), std::move(sql), OpenMode::kReadOnly, main.schema_version());
  } catch (const SQLite::Exception& e) {
    throw io_error(main.path().string() + ": cannot open database: " + e.what());
  }
}

Db open_db(const std::filesystem::path& path, OpenMode mode, Journal journal) {
  if (mode == OpenMode::kReadOnly) return open_read_only(path);
  Db db = open_read_write(path, journal);
  if (db.schema_version() < kSchemaVersion) {
    migrate(db);
    db.schema_version_ = kSchemaVersion;
  }
  return db;
}

void write_txn(Db& db, const std::function<void()>& fn) {
  if (db.txn_depth_ > 0) {  // join the outer transaction
    fn();
    return;
  }
  if (db.mode() == OpenMode::kReadOnly) {
    throw Error(ErrorKind::kIo, db.path().string() + ": database is open read-only");
  }
  const auto deadline = Steady::now() + std::chrono::milliseconds(kBusyRetryBudgetMs);
  for (int attempt = 1;; ++attempt) {
    try {
      db.sql().exec("BEGIN IMMEDIATE");
      db.txn_depth_ = 1;
      fn();
      db.sql().exec("COMMIT");
      db.txn_depth_ = 0;
      return;
    } catch (const SQLite::Exception& e) {
      if (db.txn_depth_ > 0) rollback_quietly(db.sql());
      db.txn_depth_ = 0;
      if (is_busy(e) && Steady::now() < deadline) {
        spdlog::debug("{}: database busy (attempt {}), retrying", db.path().string(), attempt);
        back_off(attempt);
        continue;
      }
      throw_sql_error(db, e);
    } catch (...) {
      if (db.txn_depth_ > 0) rollback_quietly(db.sql());
      db.txn_depth_ = 0;
      throw;
    }
  }
}

std::string database_id(const Db& db) {
  return wrap_sql(db, [&] {
    SQLite::Statement q(db.sql(), "SELECT value FROM db_meta WHERE key = 'db_id'");
    if (!q.executeStep()) throw Error(ErrorKind::kIo, db.path().string() + ": database has no db_id (db_meta)");
    return q.getColumn(0).getString();
  });
}

}  // namespace hcx::store
