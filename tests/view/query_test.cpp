// run_sql and the table/csv/json renderers of `hcx query`.
#include "hcx/view/query.h"

#include <sstream>

#include <gtest/gtest.h>

#include "common/temp_dir.h"
#include "hcx/error.h"

namespace hcx::view {
namespace {

using hcx::test::TempDir;

struct QueryTest : ::testing::Test {
  TempDir dir;
  void SetUp() override {
    store::Db db = store::open_db(dir / "hcx.db");
    db.sql().exec(
        "CREATE TABLE t (name TEXT, n INTEGER, x REAL, note TEXT);"
        "INSERT INTO t VALUES ('pre_norm', 12, 3.0, NULL), ('hc \"n=4\"', 7, 0.125, 'a,b'), "
        "('µ→', -3, 1e-05, 'two\nlines');");
  }
  std::string render(const std::string& sql, const std::string& format) {
    std::ostringstream out;
    QueryOptions opts;
    opts.sql = sql;
    opts.db = (dir / "hcx.db").string();
    opts.format = format;
    EXPECT_EQ(query_command(opts, out), 0);
    return out.str();
  }
};

TEST_F(QueryTest, TableIsAligned) {
  EXPECT_EQ(render("SELECT * FROM t", "table"),
            "name       n      x  note\n"
            "--------  --  -----  ----------\n"
            "pre_norm  12    3.0\n"
            "hc \"n=4\"   7  0.125  a,b\n"
            "µ→        -3  1e-05  two\\nlines\n");  // control characters escaped: one line per row
}

TEST_F(QueryTest, CsvQuotesPerRfc4180) {
  EXPECT_EQ(render("SELECT * FROM t", "csv"),
            "name,n,x,note\n"
            "pre_norm,12,3.0,\n"
            "\"hc \"\"n=4\"\"\",7,0.125,\"a,b\"\n"
            "µ→,-3,1e-05,\"two\nlines\"\n");
}

TEST_F(QueryTest, JsonKeepsTypes) {
  EXPECT_EQ(render("SELECT * FROM t", "json"),
            "[\n"
            "  {\"name\": \"pre_norm\", \"n\": 12, \"x\": 3.0, \"note\": null},\n"
            "  {\"name\": \"hc \\\"n=4\\\"\", \"n\": 7, \"x\": 0.125, \"note\": \"a,b\"},\n"
            "  {\"name\": \"µ→\", \"n\": -3, \"x\": 1e-05, \"note\": \"two\\nlines\"}\n"
            "]\n");
  EXPECT_EQ(render("SELECT 1 AS a, 2 AS a, x'0aff' AS b", "json"), "[\n  {\"a\": 1, \"a:2\": 2, \"b\": \"X'0AFF'\"}\n]\n");
}

TEST_F(QueryTest, EmptyResults) {
  EXPECT_EQ(render("SELECT name, n FROM t WHERE 0", "table"), "name  n\n----  -\n");
  EXPECT_EQ(render("SELECT name, n FROM t WHERE 0", "csv"), "name,n\n");
  EXPECT_EQ(render("SELECT name, n FROM t WHERE 0", "json"), "[]\n");
}

TEST_F(QueryTest, WritesAreRefusedWithAClearMessage) {
  store::Db db = store::open_db(dir / "hcx.db", store::OpenMode::kReadOnly);
  for (const char* sql : {"DELETE FROM t", "INSERT INTO t VALUES (1, 2, 3, 4)", "DROP TABLE t",
                          "CREATE TABLE u (a)", "UPDATE t SET n = 0", "VACUUM"}) {
    try {
      store::run_sql(db, sql);
      ADD_FAILURE() << "ran: " << sql;
    } catch (const Error& e) {
      EXPECT_EQ(e.exit_code(), 1) << sql;
      EXPECT_EQ(std::string(e.what()).rfind("hcx query is read-only: ", 0), 0u) << e.what();
    }
  }
  EXPECT_EQ(store::run_sql(db, "SELECT count(*) FROM t").rows[0][0], store::Cell(int64_t{3}));
}

TEST_F(QueryTest, OneStatementOnly) {
  store::Db db = store::open_db(dir / "hcx.db", store::OpenMode::kReadOnly);
  EXPECT_EQ(store::run_sql(db, "  SELECT 1; -- trailing comment\n ;").rows.size(), 1u);
  try {
    store::run_sql(db, "SELECT 1; DELETE FROM t");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_EQ(std::string(e.what()), "hcx query runs one statement at a time; found more after: SELECT 1;");
  }
  EXPECT_THROW(store::run_sql(db, "  -- nothing"), Error);
  try {
    store::run_sql(db, "SELEC 1");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 1);
    EXPECT_EQ(std::string(e.what()), "query failed: near \"SELEC\": syntax error");
  }
}

TEST(FormatReal, ShortestRoundTripAlwaysAReal) {
  const struct { double v; const char* text; } cases[] = {
      {3.0, "3.0"}, {0.1, "0.1"}, {-2.5, "-2.5"}, {1e-05, "1e-05"}, {1e20, "1e+20"},
      {123456.0, "123456.0"}, {2.0 / 3.0, "0.6666666666666666"},
  };
  for (const auto& c : cases) EXPECT_EQ(format_real(c.v), c.text) << c.v;
}

}  // namespace
}  // namespace hcx::view
