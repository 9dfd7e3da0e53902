// hcx collect end to end: shards merged once, reported, idempotent.
#include <gtest/gtest.h>

#include "cli_util.h"
#include "hcx/store/runs.h"
#include "hcx/store/shards.h"
#include "hcx/store/sqlite_sink.h"

namespace hcx::test {
namespace {

// A finished run written to its own shard under `results`, as `hcx run --shard` does.
void write_shard(const fs::path& results, const std::string& run, int steps) {
  store::Db shard = store::open_db(store::shard_path(results, run));
  config::RunConfig cfg;
  cfg.train.steps = steps;
  store::upsert_run(shard, run, cfg);
  store::start_run(shard, run, {"cuda:0", "node1", 100});
  store::SqliteSink sink(shard, run);
  for (int step = 1; step <= steps; ++step) {
    sink.scalar(step, "train/loss", 5.0 / step);
    sink.progress(step, step * 100);
    sink.flush();
  }
  store::finish_run(shard, run, RunStatus::kCompleted);
}

std::string table_dump(const std::string& db) {
  std::string out;
  for (const char* t : {"runs", "metrics", "run_params", "shard_merges"}) {
    out += query1(db, std::string("SELECT group_concat(x, ';') FROM (SELECT quote(") +
                          (t == std::string("runs") ? "id || status || step || updated_at" : "run_id") +
                          ") AS x FROM " + t + ")") + "\n";
  }
  return out;
}

TEST(CliCollect, MergesShardsAndIsIdempotent) {
  TempDir dir;
  write_shard(dir.path(), "r1", 3);
  write_shard(dir.path(), "r2", 5);
  const std::string db = dir / "hcx.db";
  Result r = run_hcx("collect --db " + db);
  EXPECT_EQ(r.code, 0) << r.output;
  const std::string shards = dir / "shards";
  const size_t params = config::flatten({}).size();  // run_params rows of one run
  EXPECT_EQ(r.output, "merged " + shards + "/r1.db: 1 run, " + std::to_string(1 + 3 + params) + " rows\n" +
                          "merged " + shards + "/r2.db: 1 run, " + std::to_string(1 + 5 + params) + " rows\n" +
                          "collect: 2 shards, 2 runs merged, 0 unchanged, 0 skipped\n");
  EXPECT_EQ(query1(db, "SELECT count(*) FROM metrics"), "8");
  EXPECT_EQ(query1(db, "SELECT status || ' ' || step || ' ' || host FROM runs WHERE id = 'r2'"), "completed 5 node1");
  const std::string merged = table_dump(db);
  r = run_hcx("collect --db " + db);
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.output, "unchanged " + shards + "/r1.db\nunchanged " + shards + "/r2.db\n" +
                          "collect: 2 shards, 0 runs merged, 2 unchanged, 0 skipped\n");
  EXPECT_EQ(table_dump(db), merged);
}

TEST(CliCollect, ShardsFolderOptionAndNothingToDo) {
  TempDir dir;
  write_shard(dir / "elsewhere", "r1", 2);
  const std::string db = dir / "results/hcx.db";
  Result r = run_hcx("collect --db " + db);
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.output, "collect: no shards in " + (dir / "results/shards").string() + "\n");
  r = run_hcx("collect --db " + db + " --shards " + (dir / "elsewhere/shards").string());
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(query1(db, "SELECT count(*) FROM metrics WHERE run_id = 'r1'"), "2");
}

TEST(CliCollect, ABadShardFailsTheCommandButNotTheOthers) {
  TempDir dir;
  write_shard(dir.path(), "good", 2);
  write_file(dir / "shards/bad.db", "not a database at all, just text");
  const Result r = run_hcx("collect --db " + (dir / "hcx.db").string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("skipped " + (dir / "shards/bad.db").string() + ": "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("collect: 2 shards, 1 runs merged, 0 unchanged, 1 skipped"), std::string::npos) << r.output;
  EXPECT_EQ(query1(dir / "hcx.db", "SELECT status FROM runs WHERE id = 'good'"), "completed");
}

}  // namespace
}  // namespace hcx::test
