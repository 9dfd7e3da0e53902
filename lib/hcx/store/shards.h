// Per-run shard databases and their merge into the main database (README
// "Running on a Slurm cluster"). A run started with `hcx run --shard` writes to its own
// file, results/shards/<run-id>.db, with the same schema, so cluster jobs
// never share one SQLite file over a network file system; `hcx collect` (and
// `hcx status`, first) merges them. Shards use the rollback journal, never
// WAL (whose shared-memory index needs every connection on one host), and a
// task opens only its own shard: the coordinator writes the run's config into
// it before submitting (prepare_shard), and only the coordinator opens the
// main database.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "hcx/store/db.h"

namespace hcx::store {

// <results_dir>/shards/<run_id>.db
std::filesystem::path shard_path(const std::filesystem::path& results_dir, const std::string& run_id);

// The shard folder that belongs to the database at `db_path`: <db dir>/shards.
std::filesystem::path shard_dir_for(const std::filesystem::path& db_path);

// The *.db files of `shard_dir`, sorted by name; empty when it does not exist.
std::vector<std::filesystem::path> list_shards(const std::filesystem::path& shard_dir);

// Opens (creating and migrating when needed) the shard at `path` read-write
// with Journal::kRollback: journal_mode=DELETE, which works on a network file
// system whose POSIX advisory locks reach across nodes; a shard left in WAL by
// an older hcx is switched back. Throws Error(kIo) as open_db().
Db open_shard(const std::filesystem::path& path);

// The coordinator's half of a cluster task, run on the submit host before
// sbatch: makes sure that the shard of `run_id` under `results_dir` holds the
// run's runs row and run_params, with `main`'s config, so that the task (`hcx
// run --run-id ID --shard`) reads its config from its shard and never opens
// `main`. A shard that holds the run already (an earlier attempt) keeps all
// its rows; only a changed config is refreshed (upsert_run). A runs row
// created here is recorded in main.shard_merges as merged (main has that
// config already), so collect() leaves main's row alone until the task
// writes. Throws Error(kBadInput) when `main` has no run `run_id`, Error(kIo)
// when either database fails.
void prepare_shard(Db& main, const std::filesystem::path& results_dir, const std::string& run_id);

// What collect() did with one shard file.
struct ShardResult {
  std::filesystem::path path;
  int64_t merged_runs = 0;     // runs copied (new, or changed since the last merge)
  int64_t unchanged_runs = 0;  // the shard has not changed since its last merge
  int64_t older_runs = 0;      // main's runs row is newer (updated_at): main wins
  int64_t rows = 0;            // rows written to the main db, all tables
  std::string skipped;         // why the whole file was skipped ("" = it was read)
};

struct CollectReport {
  std::vector<ShardResult> shards;
  int64_t merged_runs() const;
  int64_t failed() const;      // shards skipped for an error (not for being empty)
};

// Merges every shard of `shard_dir` into `main`. For each run in a shard's
// runs table:
//  - unchanged: the shard's runs.revision and updated_at are those recorded
//    in main.shard_merges at the last merge of this run; nothing to do.
//  - main's runs row is newer (updated_at strictly later, e.g. the
//    coordinator marked the run interrupted after the shard's last write):
//    main wins and the shard's copy is ignored until the shard moves on.
//  - otherwise the shard is the truth for that run. In ONE transaction per
//    shard, the runs row is replaced and the run's rows in run_params,
//    metrics, spikes, evals, layer_stats, hc_matrices and run_summary are
//    deleted from main and copied from the shard (a shard that resumed and
//    rewrote steps leaves no stale rows behind); shard_merges records the
//    state merged.
// Sweeps in a shard are matched by name (created in main when missing) and
// their sweep_runs links added. Rows of runs without a runs row in the shard
// are ignored: `hcx run --shard` must upsert_run() into its shard. Idempotent:
// a second collect() changes nothing, and a shard still being written is
// merged again later without duplicates.
// Shards are attached read-only and never modified, except that one with an
// older schema is migrated first (open_shard: it stays in the rollback
// journal), and the hot journal of a writer that died mid-transaction is
// rolled back (a read-write open) so that the shard can be read. A shard that is not yet initialised (user_version 0) is skipped; one that cannot be read, is newer
// than this binary or fails to merge is reported in ShardResult::skipped and
// the others are still merged. Throws Error(kIo) for failures of `main`.
CollectReport collect(Db& main, const std::filesystem::path& shard_dir);

// The database at `db` for reading, with <db dir>/shards merged first when
// there are any (collect(), logged on stderr; the database is then opened
// read-write, else read-only). The file must exist: Error(kIo) naming it.
Db open_collected(const std::string& db, std::optional<CollectReport>* collected = nullptr);

// Options of `hcx collect`.
struct CollectOptions {
  std::string db = "results/hcx.db";
  std::string shards;  // default: <db dir>/shards
};

// `hcx collect`: opens (creating) the main database, merges the shards and
// prints one line per shard plus a total to `out`. Returns 0, or 1 when a
// shard could not be merged. Throws Error(kIo) when the database fails.
int collect_command(const CollectOptions& opts, std::ostream& out);

// One line per shard ("merged shards/ab12.db: 1 run, 2345 rows") plus a total.
void print_collect_report(const CollectReport& report, std::ostream& out);

}  // namespace hcx::store
