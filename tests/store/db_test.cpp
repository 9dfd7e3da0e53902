// open_db: migrations, WAL or the rollback journal, read-only mode, refusal
// of newer schemas, and write_txn's behaviour on a busy database.
#include "hcx/store/db.h"

#include <sqlite3.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "hcx/error.h"
#include "hcx/store/schema.h"
#include "test_util.h"

namespace hcx::store {
namespace {

using testing::count;
using testing::TempDir;

TEST(OpenDb, FreshFileIsMigratedToTheCurrentVersionInWalMode) {
  TempDir dir;
  const auto path = dir / "nested/deeper/hcx.db";  // parent directories are created
  Db db = open_db(path);
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(db.schema_version(), kSchemaVersion);
  EXPECT_EQ(count(db, "PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(db.sql().execAndGet("PRAGMA journal_mode").getString(), "wal");
  EXPECT_EQ(count(db, "PRAGMA foreign_keys"), 1);
  for (const char* table : {"sweeps", "runs", "sweep_runs", "run_params", "metrics", "spikes", "evals",
                            "layer_stats", "hc_matrices", "run_summary"}) {
    EXPECT_TRUE(db.sql().tableExists(table)) << table;
  }
}

TEST(OpenDb, ReopeningKeepsDataAndDoesNotMigrateAgain) {
  TempDir dir;
  {
    Db db = open_db(dir / "hcx.db");
    db.sql().exec("INSERT INTO runs (id, config_json) VALUES ('r1', '{}')");
  }
  Db db = open_db(dir / "hcx.db");
  EXPECT_EQ(count(db, "SELECT count(*) FROM runs"), 1);
  EXPECT_EQ(db.schema_version(), kSchemaVersion);
}

TEST(OpenDb, RefusesANewerDatabaseNamingPathAndBothVersions) {
  TempDir dir;
  const auto path = dir / "hcx.db";
  open_db(path).sql().exec("PRAGMA user_version = 99");
  for (OpenMode mode : {OpenMode::kReadWrite, OpenMode::kReadOnly}) {
    try {
      open_db(path, mode);
      FAIL() << "a newer database was opened";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kIo);
      EXPECT_EQ(std::string(e.what()), path.string() + ": database schema version 99 is newer than this hcx "
                                                       "supports (" + std::to_string(kSchemaVersion) +
                                                       "); use a newer hcx to open it");
    }
  }
}

// Shards on a network file system: journal_mode=DELETE and synchronous=FULL,
// asked for explicitly (never guessed from the path), also for a file that
// an older hcx left in WAL; the default stays WAL, and read-only opens keep
// whatever the file has.
TEST(OpenDb, RollbackJournalIsAnExplicitOptionAndLeavesWal) {
  TempDir dir;
  {
    Db fresh = open_db(dir / "shards/new.db", OpenMode::kReadWrite, Journal::kRollback);
    EXPECT_EQ(fresh.schema_version(), kSchemaVersion);
    EXPECT_EQ(fresh.sql().execAndGet("PRAGMA journal_mode").getString(), "delete");
    EXPECT_EQ(count(fresh, "PRAGMA synchronous"), 2);  // FULL
    EXPECT_EQ(count(fresh, "PRAGMA foreign_keys"), 1);
    write_txn(fresh, [&] { fresh.sql().exec("INSERT INTO runs (id, config_json) VALUES ('a', '{}')"); });
    EXPECT_FALSE(std::filesystem::exists(dir / "shards/new.db-wal"));
  }
  {
    Db wal = open_db(dir / "old.db");
    EXPECT_EQ(wal.sql().execAndGet("PRAGMA journal_mode").getString(), "wal");
    EXPECT_EQ(count(wal, "PRAGMA synchronous"), 1);  // NORMAL
    write_txn(wal, [&] { wal.sql().exec("INSERT INTO runs (id, config_json) VALUES ('b', '{}')"); });
  }
  {
    Db left = open_db(dir / "old.db", OpenMode::kReadWrite, Journal::kRollback);
    EXPECT_EQ(left.sql().execAndGet("PRAGMA journal_mode").getString(), "delete");
    EXPECT_EQ(count(left, "SELECT count(*) FROM runs WHERE id = 'b'"), 1);
    EXPECT_FALSE(std::filesystem::exists(dir / "old.db-wal"));
  }
  Db ro = open_db(dir / "old.db", OpenMode::kReadOnly, Journal::kWal);  // ignored: read-only changes nothing
  EXPECT_EQ(ro.sql().execAndGet("PRAGMA journal_mode").getString(), "delete");
}

TEST(OpenDb, ReadOnlyNeverCreatesAMissingFile) {
  TempDir dir;
  const auto path = dir / "missing.db";
  try {
    open_db(path, OpenMode::kReadOnly);
    FAIL() << "opened a missing file";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kIo);
    EXPECT_EQ(std::string(e.what()), path.string() + ": no such database file");
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(OpenDb, ReadOnlyConnectionRefusesWrites) {
  TempDir dir;
  open_db(dir / "hcx.db");
  Db ro = open_db(dir / "hcx.db", OpenMode::kReadOnly);
  EXPECT_EQ(ro.mode(), OpenMode::kReadOnly);
  EXPECT_EQ(count(ro, "PRAGMA query_only"), 1);
  EXPECT_THROW(ro.sql().exec("INSERT INTO runs (id, config_json) VALUES ('x', '{}')"), SQLite::Exception);
  EXPECT_THROW(write_txn(ro, [] {}), Error);
}

TEST(OpenDb, UnopenablePathIsAnIoErrorNamingIt) {
  TempDir dir;
  std::filesystem::create_directories(dir / "a_directory.db");
  try {
    open_db(dir / "a_directory.db");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kIo);
    EXPECT_NE(std::string(e.what()).find((dir / "a_directory.db").string() + ": "), std::string::npos) << e.what();
  }
}

TEST(WriteTxn, CommitsOnSuccessAndRollsBackOnAnyException) {
  TempDir dir;
  Db db = open_db(dir / "hcx.db");
  write_txn(db, [&] { db.sql().exec("INSERT INTO runs (id, config_json) VALUES ('a', '{}')"); });
  EXPECT_THROW(write_txn(db, [&] {
                 db.sql().exec("INSERT INTO runs (id, config_json) VALUES ('b', '{}')");
                 throw Error(ErrorKind::kBadInput, "stop");
               }),
               Error);
  EXPECT_FALSE(db.in_transaction());
  EXPECT_THROW(write_txn(db, [&] { db.sql().exec("INSERT INTO no_such_table VALUES (1)"); }), Error);
  SQLite::Statement st(db.sql(), "SELECT group_concat(id) FROM runs");
  st.executeStep();
  EXPECT_EQ(st.getColumn(0).getString(), "a");
}

TEST(WriteTxn, NestedCallsJoinTheOuterTransaction) {
  TempDir dir;
  Db db = open_db(dir / "hcx.db");
  int commits = 0;
  sqlite3_commit_hook(db.sql().getHandle(), [](void* n) { ++*static_cast<int*>(n); return 0; }, &commits);
  write_txn(db, [&] {
    db.sql().exec("INSERT INTO runs (id, config_json) VALUES ('a', '{}')");
    write_txn(db, [&] { db.sql().exec("INSERT INTO runs (id, config_json) VALUES ('b', '{}')"); });
  });
  EXPECT_EQ(commits, 1);
  EXPECT_EQ(count(db, "SELECT count(*) FROM runs"), 2);
}

TEST(WriteTxn, WaitsForAnotherWriterInsteadOfFailing) {
  TempDir dir;
  Db a = open_db(dir / "hcx.db");
  Db b = open_db(dir / "hcx.db");
  a.sql().exec("BEGIN IMMEDIATE");
  a.sql().exec("INSERT INTO runs (id, config_json) VALUES ('a', '{}')");
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    a.sql().exec("COMMIT");
  });
  const auto t0 = std::chrono::steady_clock::now();
  write_txn(b, [&] { b.sql().exec("INSERT INTO runs (id, config_json) VALUES ('b', '{}')"); });
  const auto waited = std::chrono::steady_clock::now() - t0;
  release.join();
  EXPECT_GE(waited, std::chrono::milliseconds(250));
  EXPECT_EQ(count(b, "SELECT count(*) FROM runs"), 2);
}

TEST(WriteTxn, RetriesWithBackoffWhenSqliteGivesUpBusy) {
  TempDir dir;
  Db a = open_db(dir / "hcx.db");
  Db b = open_db(dir / "hcx.db");
  b.sql().setBusyTimeout(0);  // SQLite reports SQLITE_BUSY at once: only write_txn's own retries help
  a.sql().exec("BEGIN IMMEDIATE");
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    a.sql().exec("COMMIT");
  });
  int calls = 0;
  write_txn(b, [&] {
    ++calls;
    b.sql().exec("INSERT INTO runs (id, config_json) VALUES ('b', '{}')");
  });
  release.join();
  EXPECT_EQ(calls, 1);  // BEGIN IMMEDIATE was what failed, before fn ran
  EXPECT_EQ(count(b, "SELECT count(*) FROM runs"), 1);
}

}  // namespace
}  // namespace hcx::store
