// SqliteSink: rows appear only after flush, one transaction per flush,
// summary routing, resume_from, flush on destruction.
#include "hcx/store/sqlite_sink.h"

#include <sqlite3.h>

#include <cmath>

#include <gtest/gtest.h>

#include "hcx/error.h"
#include "hcx/store/reader.h"
#include "hcx/store/runs.h"
#include "test_util.h"

namespace hcx::store {
namespace {

using testing::count;
using testing::TempDir;

struct SinkTest : ::testing::Test {
  TempDir dir;
  Db db = open_db(dir / "hcx.db");
  void SetUp() override {
    upsert_run(db, "r", {});
    start_run(db, "r", {"cpu"});
  }
  // Rows of run r in `table`, through a second connection.
  int64_t rows(const std::string& table) {
    Db other = open_db(dir / "hcx.db", OpenMode::kReadOnly);
    return count(other, "SELECT count(*) FROM " + table + " WHERE run_id = 'r'");
  }
  // One value of `sql` as text, through a second connection.
  std::string count_text(const std::string& sql) {
    Db other = open_db(dir / "hcx.db", OpenMode::kReadOnly);
    SQLite::Statement st(other.sql(), sql);
    return st.executeStep() ? st.getColumn(0).getString() : "";
  }
};

// Writes one log interval of every kind of row at `step`.
void interval(metrics::MetricSink& sink, int64_t step) {
  sink.scalar(step, "train/loss", 5.0 - 0.01 * static_cast<double>(step));
  sink.scalar(step, "train/lr", 1e-3);
  sink.spike({"train/loss", step, 9.0, 5.0, 0.5, 8.0});
  sink.eval(step, "synthetic/copy", "acc", 0.5);
  sink.layer_stat(step, 0, "cos/median", 0.9);
  sink.matrix({step, 1, "ffn", "hc", 2, 2, {1.0, 0.5, -0.25, 2.0}});
  sink.progress(step, step * 1024);
}

TEST_F(SinkTest, RowsBecomeVisibleOnlyAtFlush) {
  SqliteSink sink(db, "r");
  interval(sink, 10);
  EXPECT_EQ(sink.pending(), 6u);
  EXPECT_EQ(rows("metrics"), 0);
  sink.flush();
  EXPECT_EQ(sink.pending(), 0u);
  for (const char* t : {"spikes", "evals", "layer_stats", "hc_matrices"}) EXPECT_EQ(rows(t), 1) << t;
  EXPECT_EQ(rows("metrics"), 2);
  const auto s = *run_state(db, "r");
  EXPECT_EQ(s.step, 10);
  EXPECT_EQ(s.tokens, 10240);
  const auto m = read_hc_matrices(db, {"r"});
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].values, (std::vector<double>{1.0, 0.5, -0.25, 2.0}));
  EXPECT_EQ(m[0].sublayer, "ffn");
}

TEST_F(SinkTest, EachFlushIsExactlyOneTransaction) {
  int commits = 0;
  sqlite3_commit_hook(db.sql().getHandle(), [](void* n) { ++*static_cast<int*>(n); return 0; }, &commits);
  const int64_t changes_before = db.sql().getTotalChanges();
  SqliteSink sink(db, "r");
  for (int64_t step = 1; step <= 5; ++step) {
    interval(sink, step);
    sink.flush();
  }
  EXPECT_EQ(commits, 5);
  // 6 rows and the runs update per interval, nothing else.
  EXPECT_EQ(db.sql().getTotalChanges() - changes_before, 5 * 7);
  sink.flush();  // nothing buffered: a heartbeat, still one transaction
  EXPECT_EQ(commits, 6);
}

TEST_F(SinkTest, FlushHeartbeats) {
  db.sql().exec("UPDATE runs SET heartbeat_at = '2020-01-01T00:00:00.000Z'");
  SqliteSink sink(db, "r");
  sink.flush();
  EXPECT_LT(*run_state(db, "r")->heartbeat_age_s, 5.0);
}

TEST_F(SinkTest, SummaryGoesToColumnsOrRunSummary) {
  SqliteSink sink(db, "r");
  sink.summary("final_train_loss", 3.25);
  sink.summary("tokens_per_s", 12345.5);
  sink.summary("params", 1000.0);
  sink.summary("spikes/train/loss/count", 2.0);
  sink.summary("memory/peak_gib", NAN);
  sink.flush();
  const auto run = *get_run(db, "r");
  EXPECT_EQ(run.final_train_loss, 3.25);
  EXPECT_EQ(run.tokens_per_s, 12345.5);
  EXPECT_EQ(run.param_count, 1000);
  EXPECT_EQ(run.final_val_loss, std::nullopt);
  EXPECT_EQ(run.summary.at("spikes/train/loss/count"), 2.0);
  EXPECT_TRUE(std::isnan(run.summary.at("memory/peak_gib")));
}

TEST_F(SinkTest, ARepeatedStepKeepsTheLastValue) {
  SqliteSink sink(db, "r");
  sink.scalar(5, "val/loss", 3.0);
  sink.scalar(5, "val/loss", 2.0);
  sink.flush();
  sink.scalar(5, "val/loss", 1.5);
  sink.flush();
  EXPECT_EQ(metric_curve(db, "r", "val/loss").values, (std::vector<double>{1.5}));
}

TEST_F(SinkTest, ResumeFromDeletesLaterRowsOfThisRunOnly) {
  upsert_run(db, "other", {});
  {
    SqliteSink other(db, "other");
    for (int64_t step = 10; step <= 50; step += 10) interval(other, step);
  }
  SqliteSink sink(db, "r");
  for (int64_t step = 10; step <= 50; step += 10) {
    interval(sink, step);
    sink.flush();
  }
  interval(sink, 60);  // buffered, not yet flushed: also void after the resume
  sink.resume_from(30);
  EXPECT_EQ(metric_curve(db, "r", "train/loss").steps, (std::vector<int64_t>{10, 20, 30}));
  for (const char* t : {"spikes", "evals", "layer_stats", "hc_matrices"}) EXPECT_EQ(rows(t), 3) << t;
  EXPECT_EQ(run_state(db, "r")->step, 30);
  EXPECT_EQ(metric_curve(db, "other", "train/loss").steps.size(), 5u);
  interval(sink, 40);
  sink.flush();
  EXPECT_EQ(metric_curve(db, "r", "train/loss").steps, (std::vector<int64_t>{10, 20, 30, 40}));
}

TEST_F(SinkTest, DestructorFlushesWhatIsLeft) {
  {
    SqliteSink sink(db, "r");
    interval(sink, 7);
  }
  EXPECT_EQ(rows("metrics"), 2);
  EXPECT_EQ(run_state(db, "r")->step, 7);
}

TEST_F(SinkTest, AFailedFlushKeepsTheRowsForTheNextOne) {
  SqliteSink sink(db, "r");
  interval(sink, 1);
  Db blocker = open_db(dir / "hcx.db");
  blocker.sql().exec("DROP TABLE spikes");  // the next flush fails on its INSERT
  EXPECT_THROW(sink.flush(), Error);
  EXPECT_EQ(sink.pending(), 6u);
  EXPECT_EQ(rows("metrics"), 0);  // rolled back as a whole
  blocker.sql().exec("CREATE TABLE spikes (run_id TEXT, metric TEXT, step INTEGER, value REAL, mean REAL, "
                     "std REAL, score REAL, PRIMARY KEY (run_id, metric, step))");
  sink.flush();
  EXPECT_EQ(rows("metrics"), 2);
  EXPECT_EQ(rows("spikes"), 1);
}

// A stale process whose run was taken over by a newer attempt: its sink
// writes no metric, no heartbeat and deletes nothing, and says who holds it.
TEST_F(SinkTest, SinkOfARunTakenOverWritesNothingAndThrowsBusy) {
  SqliteSink sink(db, "r", 1);
  sink.scalar(1, "train/loss", 3.0);
  sink.progress(1, 10);
  sink.flush();
  EXPECT_EQ(rows("metrics"), 1);
  start_run(db, "r", {"cpu", "other-host", 99});  // attempt 2
  const std::string before = count_text("SELECT revision || ' ' || step || ' ' || heartbeat_at FROM runs");
  sink.scalar(2, "train/loss", 2.0);
  sink.progress(2, 20);
  try {
    sink.flush();
    FAIL() << "expected Error(kBusy)";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBusy);
    EXPECT_NE(std::string(e.what()).find("attempt 2 (pid 99 on other-host) holds it now"), std::string::npos) << e.what();
  }
  EXPECT_THROW(sink.resume_from(0), Error);
  EXPECT_EQ(rows("metrics"), 1);  // neither written nor deleted
  EXPECT_EQ(count_text("SELECT revision || ' ' || step || ' ' || heartbeat_at FROM runs"), before);
}

}  // namespace
}  // namespace hcx::store
