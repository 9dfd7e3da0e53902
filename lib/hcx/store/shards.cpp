// Shard files and their idempotent merge into the main database (see shards.h).
#include "hcx/store/shards.h"

#include <algorithm>
#include <cstdio>
#include <ostream>

#include <spdlog/spdlog.h>

#include "hcx/config/run_config.h"
#include "hcx/error.h"
#include "hcx/store/runs.h"
#include "hcx/store/schema.h"
#include "hcx/store/timestamp.h"

namespace hcx::store {
namespace {

namespace fs = std::filesystem;

// Tables keyed by run_id whose rows a merge replaces wholesale.
constexpr const char* kRunTables[] = {"run_params", "metrics",     "spikes",     "evals",
                                      "layer_stats", "hc_matrices", "run_summary"};

// A read-only URI for ATTACH: file:<path>?mode=ro with URI-special bytes escaped.
std::string readonly_uri(const fs::path& path) {
  std::string uri = "file:";
  for (unsigned char c : fs::absolute(path).string()) {
    if (c == '%' || c == '?' || c == '#' || c < 0x21 || c > 0x7e) {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      uri += buf;
    } else {
      uri += static_cast<char>(c);
    }
  }
  return uri + "?mode=ro";
}

std::vector<std::string> columns_of(SQLite::Database& sql, const std::string& table) {
  std::vector<std::string> cols;
  SQLite::Statement st(sql, "SELECT name FROM pragma_table_info(?) ORDER BY cid");
  st.bind(1, table);
  while (st.executeStep()) cols.push_back(st.getColumn(0).getString());
  return cols;
}

std::string join(const std::vector<std::string>& v, const std::string& prefix = "") {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + prefix + x;
  return s;
}

// The statements that copy one run from `shard` into `main`, built once from
// main's column lists (a shard has the same schema version: checked before).
struct MergeSql {
  std::string upsert_run;
  std::vector<std::pair<std::string, std::string>> tables;  // (delete, insert) per run table

  explicit MergeSql(SQLite::Database& sql) {
    const auto cols = columns_of(sql, "runs");
    std::string set;
    for (const auto& c : cols) {
      if (c != "id") set += (set.empty() ? "" : ", ") + c + " = excluded." + c;
    }
    upsert_run = "INSERT INTO main.runs (" + join(cols) + ") SELECT " + join(cols) +
                 " FROM shard.runs WHERE id = ?1 ON CONFLICT (id) DO UPDATE SET " + set;
    for (const char* t : kRunTables) {
      const auto tc = columns_of(sql, t);
      tables.emplace_back(std::string("DELETE FROM main.") + t + " WHERE run_id = ?1",
                          std::string("INSERT INTO main.") + t + " (" + join(tc) + ") SELECT " + join(tc) +
                              " FROM shard." + t + " WHERE run_id = ?1");
    }
  }
};

// An error message without the leading "<path>: " that the caller prints anyway.
std::string reason(const std::string& what, const fs::path& path) {
  const std::string prefix = path.string() + ": ";
  return what.compare(0, prefix.size(), prefix) == 0 ? what.substr(prefix.size()) : what;
}

// Reads the shard's schema version without writing to it. Returns "" when it
// can be attached, else why not. A task killed mid-transaction leaves a hot
// journal, which a read-only connection refuses to read ("attempt to write a
// readonly database"): one read-write open rolls it back first (the journal of
// a live writer is not hot, and then that open changes nothing).
std::string check_shard(const fs::path& path) {
  std::error_code ec;
  if (fs::exists(path.string() + "-journal", ec)) {
    try {
      open_shard(path);
    } catch (const Error&) {
      // reported by the read-only open below
    }
  }
  int version = 0;
  try {
    version = open_db(path, OpenMode::kReadOnly).schema_version();
  } catch (const Error& e) {
    return reason(e.what(), path);
  }
  if (version == 0) return "not initialised yet";
  if (version < kSchemaVersion) open_shard(path);  // migrates the shard forward, in the rollback journal
  return "";
}

void merge_attached(Db& main, const MergeSql& q, ShardResult& r) {
  SQLite::Database& sql = main.sql();
  r.merged_runs = r.unchanged_runs = r.older_runs = r.rows = 0;  // a retried transaction starts over
  std::vector<std::string> to_merge;
  // Unchanged: the shard is in the state merged last time. Otherwise the
  // shard wins unless main's row was written strictly later.
  SQLite::Statement runs(sql,
                         "SELECT s.id, "
                         "k.run_id IS NOT NULL AND k.revision = s.revision AND k.updated_at = s.updated_at, "
                         "m.id IS NOT NULL AND m.updated_at > s.updated_at "
                         "FROM shard.runs s LEFT JOIN main.runs m ON m.id = s.id "
                         "LEFT JOIN main.shard_merges k ON k.run_id = s.id ORDER BY s.id");
  while (runs.executeStep()) {
    if (runs.getColumn(1).getInt()) {
      ++r.unchanged_runs;
    } else if (runs.getColumn(2).getInt()) {
      ++r.older_runs;
    } else {
      to_merge.push_back(runs.getColumn(0).getString());
    }
  }
  const std::string now = utc_iso();
  for (const auto& id : to_merge) {
    SQLite::Statement up(sql, q.upsert_run);
    up.bind(1, id);
    r.rows += up.exec();
    for (const auto& [del, ins] : q.tables) {
      SQLite::Statement d(sql, del);
      d.bind(1, id);
      d.exec();
      SQLite::Statement i(sql, ins);
      i.bind(1, id);
      r.rows += i.exec();
    }
    SQLite::Statement tags(sql, "INSERT OR IGNORE INTO main.run_tags (run_id, tag) "
                                "SELECT run_id, tag FROM shard.run_tags WHERE run_id = ?1");  // a union: never removed
    tags.bind(1, id);
    r.rows += tags.exec();
    SQLite::Statement k(sql,
                        "INSERT OR REPLACE INTO main.shard_merges (run_id, revision, updated_at, merged_at, path) "
                        "SELECT id, revision, updated_at, ?2, ?3 FROM shard.runs WHERE id = ?1");
    k.bind(1, id);
    k.bind(2, now);
    k.bind(3, r.path.string());
    k.exec();
    ++r.merged_runs;
  }
  sql.exec(
      "INSERT INTO main.sweeps (name, spec_json, created_at, hcx_version) "
      "SELECT name, spec_json, created_at, hcx_version FROM shard.sweeps WHERE true "
      "ON CONFLICT (name) DO NOTHING");
  r.rows += sql.getChanges();
  sql.exec(
      "INSERT OR IGNORE INTO main.sweep_runs (sweep_id, run_id, position) "
      "SELECT ms.id, sr.run_id, sr.position FROM shard.sweep_runs sr "
      "JOIN shard.sweeps ss ON ss.id = sr.sweep_id JOIN main.sweeps ms ON ms.name = ss.name "
      "WHERE sr.run_id IN (SELECT id FROM main.runs)");
  r.rows += sql.getChanges();
}

void merge_shard(Db& main, const MergeSql& q, ShardResult& r) {
  r.skipped = check_shard(r.path);
  if (!r.skipped.empty()) return;
  SQLite::Database& sql = main.sql();
  try {
    SQLite::Statement attach(sql, "ATTACH DATABASE ? AS shard");
    attach.bind(1, readonly_uri(r.path));
    attach.exec();
  } catch (const SQLite::Exception& e) {
    r.skipped = std::string("cannot attach: ") + e.what();
    return;
  }
  try {
    write_txn(main, [&] { merge_attached(main, q, r); });
  } catch (const Error& e) {
    r.skipped = std::string("merge failed: ") + e.what();
  }
  try {
    sql.exec("DETACH DATABASE shard");
  } catch (const SQLite::Exception& e) {
    throw_sql_error(main, e);
  }
}

}  // namespace

Db open_shard(const fs::path& path) { return open_db(path, OpenMode::kReadWrite, Journal::kRollback); }

void prepare_shard(Db& main, const fs::path& results_dir, const std::string& run_id) {
  const std::string config_json = wrap_sql(main, [&] {
    SQLite::Statement q(main.sql(), "SELECT config_json FROM runs WHERE id = ?");
    q.bind(1, run_id);
    if (!q.executeStep())
      throw Error(ErrorKind::kBadInput, main.path().string() + ": unknown run id '" + run_id + "'");
    return q.getColumn(0).getString();
  });
  const config::RunConfig cfg = config::parse_or_throw(config::Json::parse(config_json), "run " + run_id);
  const fs::path path = shard_path(results_dir, run_id);
  Db shard = open_shard(path);
  const bool existed = run_state(shard, run_id).has_value();
  upsert_run(shard, run_id, cfg);
  if (existed) return;
  // The shard's new row says nothing main does not know: record it as merged.
  wrap_sql(shard, [&] {
    SQLite::Statement q(shard.sql(), "SELECT revision, updated_at FROM runs WHERE id = ?");
    q.bind(1, run_id);
    q.executeStep();
    const int64_t revision = q.getColumn(0).getInt64();
    const std::string updated_at = q.getColumn(1).getString();
    write_txn(main, [&] {
      SQLite::Statement k(main.sql(),
                          "INSERT OR REPLACE INTO shard_merges (run_id, revision, updated_at, merged_at, path) "
                          "VALUES (?, ?, ?, ?, ?)");
      k.bind(1, run_id);
      k.bind(2, revision);
      k.bind(3, updated_at);
      k.bind(4, utc_iso());
      k.bind(5, path.string());
      k.exec();
    });
  });
}

fs::path shard_path(const fs::path& results_dir, const std::string& run_id) {
  return results_dir / "shards" / (run_id + ".db");
}

fs::path shard_dir_for(const fs::path& db_path) {
  return db_path.parent_path() / "shards";
}

std::vector<fs::path> list_shards(const fs::path& shard_dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(shard_dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(shard_dir, ec)) {
    if (entry.path().extension() == ".db" && entry.is_regular_file(ec)) out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

int64_t CollectReport::merged_runs() const {
  int64_t n = 0;
  for (const auto& s : shards) n += s.merged_runs;
  return n;
}

int64_t CollectReport::failed() const {
  return std::count_if(shards.begin(), shards.end(), [](const ShardResult& s) {
    return !s.skipped.empty() && s.skipped != "not initialised yet";
  });
}

CollectReport collect(Db& main, const fs::path& shard_dir) {
  CollectReport report;
  const auto paths = list_shards(shard_dir);
  if (paths.empty()) return report;
  const MergeSql q = wrap_sql(main, [&] { return MergeSql(main.sql()); });
  for (const auto& path : paths) {
    ShardResult r;
    r.path = path;
    merge_shard(main, q, r);
    if (!r.skipped.empty() && r.skipped != "not initialised yet") spdlog::warn("collect: {}: {}", path.string(), r.skipped);
    report.shards.push_back(std::move(r));
  }
  return report;
}

void print_collect_report(const CollectReport& report, std::ostream& out) {
  int64_t unchanged = 0, skipped = 0;
  for (const auto& s : report.shards) {
    if (!s.skipped.empty()) {
      ++skipped;
      out << "skipped " << s.path.string() << ": " << s.skipped << "\n";
    } else if (s.merged_runs > 0) {
      out << "merged " << s.path.string() << ": " << s.merged_runs << (s.merged_runs == 1 ? " run, " : " runs, ")
          << s.rows << " rows\n";
    } else {
      ++unchanged;
      out << "unchanged " << s.path.string() << "\n";
    }
  }
  out << "collect: " << report.shards.size() << (report.shards.size() == 1 ? " shard, " : " shards, ")
      << report.merged_runs() << " runs merged, " << unchanged << " unchanged, " << skipped << " skipped\n";
}

int collect_command(const CollectOptions& opts, std::ostream& out) {
  Db db = open_db(opts.db, OpenMode::kReadWrite);
  const fs::path dir = opts.shards.empty() ? shard_dir_for(opts.db) : fs::path(opts.shards);
  if (list_shards(dir).empty()) {
    out << "collect: no shards in " << dir.string() << "\n";
    return 0;
  }
  const CollectReport report = collect(db, dir);
  print_collect_report(report, out);
  return report.failed() > 0 ? 1 : 0;
}

Db open_collected(const std::string& path, std::optional<CollectReport>* collected) {
  const auto dir = shard_dir_for(path);
  if (list_shards(dir).empty()) return open_db(path, OpenMode::kReadOnly);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {  // status never creates a database
    throw Error(ErrorKind::kIo, path + ": no such database file");
  }
  Db db = open_db(path, OpenMode::kReadWrite);
  CollectReport merged = collect(db, dir);
  spdlog::info("collect: {} shards, {} runs merged", merged.shards.size(), merged.merged_runs());
  if (collected) *collected = std::move(merged);
  return db;
}

}  // namespace hcx::store
