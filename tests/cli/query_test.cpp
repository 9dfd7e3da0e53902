// hcx query end to end: output formats, read-only refusal, missing database, usage.
#include <gtest/gtest.h>

#include "cli_util.h"
#include "hcx/store/db.h"
#include "hcx/store/schema.h"

namespace hcx::test {
namespace {

struct CliQuery : ::testing::Test {
  TempDir dir;
  std::string db = dir / "results/hcx.db";
  void SetUp() override {
    store::Db d = store::open_db(db);
    d.sql().exec(
        "INSERT INTO runs (id, config_json, status, step, final_val_loss) VALUES "
        "('aa', '{}', 'completed', 200, 2.5), ('bb', '{}', 'failed', 17, NULL);");
  }
};

TEST_F(CliQuery, TableCsvJson) {
  const std::string sql = "\"SELECT id, status, step, final_val_loss AS loss FROM runs ORDER BY id\"";
  Result r = run_hcx("query " + sql + " --db " + db);
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.output,
            "id  status     step  loss\n"
            "--  ---------  ----  ----\n"
            "aa  completed   200   2.5\n"
            "bb  failed       17\n");
  r = run_hcx("query " + sql + " --db " + db + " --format csv");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.output, "id,status,step,loss\naa,completed,200,2.5\nbb,failed,17,\n");
  r = run_hcx("query " + sql + " --db " + db + " --format json");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.output,
            "[\n"
            "  {\"id\": \"aa\", \"status\": \"completed\", \"step\": 200, \"loss\": 2.5},\n"
            "  {\"id\": \"bb\", \"status\": \"failed\", \"step\": 17, \"loss\": null}\n"
            "]\n");
}

TEST_F(CliQuery, DefaultDatabaseIsResultsHcxDb) {
  const Result r = run_hcx("query \"SELECT count(*) AS n FROM runs\" --format csv", dir.path().string());
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output, "n\n2\n");
}

TEST_F(CliQuery, WritesAreRefusedAndTheFileStaysByteIdentical) {
  const std::string before = read_file(db);
  const auto mtime = fs::last_write_time(db);
  for (const char* sql : {"DELETE FROM runs", "UPDATE runs SET status = 'pending'", "DROP TABLE metrics",
                          "INSERT INTO runs (id, config_json) VALUES ('cc', '{}')", "PRAGMA user_version = 7",
                          "CREATE TABLE x (a)", "VACUUM"}) {
    const Result r = run_hcx(std::string("query \"") + sql + "\" --db " + db);
    EXPECT_EQ(r.code, 1) << sql;
    EXPECT_NE(r.output.find("hcx query is read-only: "), std::string::npos) << sql << ": " << r.output;
  }
  EXPECT_EQ(read_file(db), before);
  EXPECT_EQ(fs::last_write_time(db), mtime);
  EXPECT_EQ(query1(db, "SELECT count(*) FROM runs"), "2");
  EXPECT_EQ(query1(db, "PRAGMA user_version"), std::to_string(hcx::store::kSchemaVersion));
}

TEST_F(CliQuery, MissingDatabaseIsNamedAndNotCreated) {
  const std::string missing = dir / "nowhere/hcx.db";
  const Result r = run_hcx("query \"SELECT 1\" --db " + missing);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find(missing + ": no such database file"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(missing));
  EXPECT_FALSE(fs::exists(dir / "nowhere"));
}

TEST_F(CliQuery, FailedQueriesExitOneBadUsageTwo) {
  Result r = run_hcx("query \"SELECT nope FROM runs\" --db " + db);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("query failed: no such column: nope"), std::string::npos) << r.output;
  EXPECT_EQ(run_hcx("query \"SELECT 1\" --format xml --db " + db).code, 2);
  EXPECT_EQ(run_hcx("query --db " + db).code, 2);
  r = run_hcx("query \"SELECT 1; SELECT 2\" --db " + db);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("one statement at a time"), std::string::npos) << r.output;
}

TEST_F(CliQuery, HelpHasExamples) {
  const Result r = run_hcx("query --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.output.find("Examples:"), std::string::npos);
  EXPECT_NE(r.output.find("--format"), std::string::npos);
}

}  // namespace
}  // namespace hcx::test
