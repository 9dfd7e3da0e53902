// Eight processes write runs into one database at once: no row is lost and
// nobody sees "database is locked" (writers retry on a busy database: store/db.h).
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "hcx/store/reader.h"
#include "hcx/store/runs.h"
#include "hcx/store/sqlite_sink.h"
#include "test_util.h"

namespace hcx::store {
namespace {

using testing::count;
using testing::TempDir;

constexpr int kProcesses = 8;
constexpr int kIntervals = 200;
constexpr int kMetricsPerInterval = 5;

// The child's whole life: open the (possibly not yet created) database, register
// and start its run, write kIntervals log intervals, finish. Returns the exit code.
int child(const std::filesystem::path& path, int index, int start_fd) {
  char go;
  if (read(start_fd, &go, 1) < 0) return 3;  // wait until every sibling exists
  try {
    Db db = open_db(path);
    const std::string run = "run" + std::to_string(index);
    config::RunConfig cfg;
    cfg.seed = index;
    cfg.train.steps = kIntervals;
    upsert_run(db, run, cfg);
    start_run(db, run, {"cpu"});
    {
      SqliteSink sink(db, run);
      for (int64_t step = 1; step <= kIntervals; ++step) {
        for (int m = 0; m < kMetricsPerInterval; ++m) {
          sink.scalar(step, "m" + std::to_string(m), static_cast<double>(index * 100000 + step));
        }
        sink.progress(step, step * 64);
        sink.flush();
      }
      sink.summary("final_train_loss", index);
    }
    finish_run(db, run, RunStatus::kCompleted);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "child %d: %s\n", index, e.what());
    return 1;
  }
}

TEST(Concurrency, EightProcessesWritingAtOnceLoseNoRow) {
  TempDir dir;
  const auto path = dir / "shared.db";  // created by the children themselves, concurrently
  int start[2];
  ASSERT_EQ(pipe(start), 0);
  std::vector<pid_t> pids;
  for (int i = 0; i < kProcesses; ++i) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(start[1]);
      _exit(child(path, i, start[0]));
    }
    pids.push_back(pid);
  }
  close(start[0]);
  const auto t0 = std::chrono::steady_clock::now();
  close(start[1]);  // EOF: everybody starts at once
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child " << pid << " failed";
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%d processes x %d flushes: %.2f s\n", kProcesses, kIntervals, seconds);

  Db db = open_db(path, OpenMode::kReadOnly);
  EXPECT_EQ(count(db, "SELECT count(*) FROM metrics"), int64_t{kProcesses} * kIntervals * kMetricsPerInterval);
  EXPECT_EQ(count(db, "SELECT count(*) FROM runs WHERE status = 'completed' AND step = 200 AND tokens = 12800"),
            kProcesses);
  EXPECT_EQ(count(db, "SELECT count(DISTINCT run_id) FROM run_params"), kProcesses);
  for (int i = 0; i < kProcesses; ++i) {
    const std::string run = "run" + std::to_string(i);
    const Curve c = metric_curve(db, run, "m3");
    ASSERT_EQ(c.steps.size(), static_cast<size_t>(kIntervals)) << run;
    EXPECT_EQ(c.values.back(), i * 100000 + kIntervals) << run;
    EXPECT_EQ(get_run(db, run)->final_train_loss, i) << run;
  }
}

}  // namespace
}  // namespace hcx::store
