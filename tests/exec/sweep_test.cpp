// The sweep coordinator end to end, with this test binary standing in for
// `hcx run` (fake_hcx_run.h): registration, skipping what is done, resuming
// what was interrupted, recording crashes, dry runs, stale rows. The same
// scenarios against the real trainer live in tests/cli/sweep_test.cpp.
#include "hcx/exec/sweep.h"

#include <sys/wait.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "fake_hcx_run.h"
#include "process_util.h"
#include "hcx/error.h"
#include "hcx/exec/local_executor.h"
#include "hcx/exec/outcome.h"
#include "hcx/grid/expand.h"
#include "hcx/store/db.h"
#include "hcx/store/runs.h"

namespace hcx::exec {
namespace {

namespace fs = std::filesystem;

class SweepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("hcx_sweep_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    setenv("HCX_FAKE_STEP_MS", "1", 1);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write_experiment(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p;
  }

  SweepOptions options(const fs::path& experiment, const std::string& db = "hcx.db") {
    SweepOptions o;
    o.experiment = experiment.string();
    o.db_path = (dir_ / db).string();
    o.hcx_binary = self_executable();  // this binary: fake_hcx_run.h
    o.devices = "cpu";
    o.jobs = 2;
    return o;
  }

  std::vector<store::RunState> states(const std::string& sweep, const std::string& db = "hcx.db") {
    store::Db d = store::open_db(dir_ / db, store::OpenMode::kReadOnly);
    return store::run_states(d, sweep);
  }

  std::string log_of(const std::string& id) {
    std::ifstream in(dir_ / "logs" / (id + ".log"));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  static size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  }

  fs::path dir_;
};

const char* kFourRuns = R"({
  "name": "four",
  "base": {"train.steps": 12, "train.batch_size": 2, "model.seq_len": 8},
  "grid": {"residual.kind": ["pre_norm", "post_norm"]},
  "seeds": 2
})";

TEST_F(SweepTest, TrainsEveryRunThenNothingTwice) {
  const auto exp = write_experiment("four.json", kFourRuns);
  EXPECT_EQ(run_sweep(options(exp)), 0);
  auto rows = states("four");
  ASSERT_EQ(rows.size(), 4u);
  for (const auto& r : rows) {
    EXPECT_EQ(r.status, "completed") << r.id;
    EXPECT_EQ(r.step, 12) << r.id;
    EXPECT_EQ(count(log_of(r.id), "hcx sweep: start"), 1u);
    EXPECT_NE(log_of(r.id).find("device=cpu threads=1"), std::string::npos);
  }
  // Again: everything is done, no child starts.
  EXPECT_EQ(run_sweep(options(exp)), 0);
  for (const auto& r : states("four")) EXPECT_EQ(count(log_of(r.id), "hcx sweep: start"), 1u) << r.id;
}

TEST_F(SweepTest, TheSameRunInAnotherSweepIsNotTrainedAgain) {
  EXPECT_EQ(run_sweep(options(write_experiment("four.json", kFourRuns))), 0);
  const auto other = write_experiment("other.json", R"({
    "base": {"train.steps": 12, "train.batch_size": 2, "model.seq_len": 8, "residual.kind": "post_norm"},
    "grid": {"seed": [1, 2]}})");
  EXPECT_EQ(run_sweep(options(other)), 0);
  const auto rows = states("other");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(count(log_of(rows[0].id), "hcx sweep: start"), 1u);  // seed 1 came from "four"
  EXPECT_EQ(count(log_of(rows[1].id), "hcx sweep: start"), 1u);
}

TEST_F(SweepTest, FailuresAreRecordedAndDoNotStopTheOthers) {
  const auto exp = write_experiment("bad.json", R"({
    "name": "bad",
    "base": {"train.steps": 6, "train.batch_size": 2, "model.seq_len": 8},
    "grid": {"train.lr": [0.001, 0.666, 0.777, 0.888]}})");
  EXPECT_EQ(run_sweep(options(exp)), 1);
  const auto rows = states("bad");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].status, "completed");
  EXPECT_EQ(rows[1].status, "diverged");  // recorded by the child itself
  EXPECT_EQ(rows[1].error, "loss is NaN at step 2");
  EXPECT_EQ(rows[2].status, "failed");  // SIGKILL: recorded by the sweep, with the log's tail
  EXPECT_NE(rows[2].error.find("killed by signal 9"), std::string::npos) << rows[2].error;
  EXPECT_NE(rows[2].error.find("about to be killed"), std::string::npos) << rows[2].error;
  EXPECT_EQ(rows[3].status, "failed");
  EXPECT_NE(rows[3].error.find("exit 2 (bad input)"), std::string::npos) << rows[3].error;
  EXPECT_NE(rows[3].error.find("bad config"), std::string::npos) << rows[3].error;

  // Failed runs wait for --retry-failed; the sweep still says it failed.
  EXPECT_EQ(run_sweep(options(exp)), 1);
  for (const auto& r : states("bad")) EXPECT_EQ(count(log_of(r.id), "hcx sweep: start"), 1u) << r.id;
  auto retry = options(exp);
  retry.retry_failed = true;
  EXPECT_EQ(run_sweep(retry), 1);
  const auto again = states("bad");
  EXPECT_EQ(count(log_of(again[0].id), "hcx sweep: start"), 1u);
  for (size_t i = 1; i < 4; ++i) EXPECT_EQ(count(log_of(again[i].id), "hcx sweep: start"), 2u) << i;
}

TEST_F(SweepTest, AStoppedSweepResumesToTheSameNumbers) {
  setenv("HCX_FAKE_STEP_MS", "20", 1);
  const auto exp = write_experiment("four.json", R"({
    "name": "four",
    "base": {"train.steps": 40, "train.batch_size": 2, "model.seq_len": 8},
    "grid": {"residual.kind": ["pre_norm", "post_norm"]},
    "seeds": 2})");
  // Stop (as SIGTERM would) once a run is a few steps in.
  std::atomic<bool> done{false};
  std::thread stopper([&] {
    while (!done) {
      usleep(10 * 1000);
      try {
        if (!fs::exists(dir_ / "hcx.db")) continue;
        for (const auto& r : states("four"))
          if (r.status == "running" && r.step >= 3) {
            LocalExecutor::request_stop(SIGTERM);
            return;
          }
      } catch (const std::exception&) {  // the database is still being created
      }
    }
  });
  const int rc = run_sweep(options(exp));
  done = true;
  stopper.join();
  EXPECT_EQ(rc, 128 + SIGTERM);
  size_t interrupted = 0, pending = 0;
  for (const auto& r : states("four")) {
    if (r.status == "interrupted") {
      ++interrupted;
      EXPECT_GT(r.step, 0);
      EXPECT_LT(r.step, 40);
    }
    pending += r.status == "pending";
  }
  EXPECT_EQ(interrupted, 2u);  // both slots were busy
  EXPECT_EQ(pending, 2u);      // the rest never started

  setenv("HCX_FAKE_STEP_MS", "1", 1);
  EXPECT_EQ(run_sweep(options(exp)), 0);
  EXPECT_EQ(run_sweep(options(exp, "reference.db")), 0);  // uninterrupted, for comparison
  const auto resumed = states("four"), reference = states("four", "reference.db");
  ASSERT_EQ(resumed.size(), reference.size());
  size_t resumes = 0;
  for (size_t i = 0; i < resumed.size(); ++i) {
    EXPECT_EQ(resumed[i].id, reference[i].id);
    EXPECT_EQ(resumed[i].status, "completed");
    EXPECT_EQ(resumed[i].step, 40);
    ASSERT_TRUE(resumed[i].last_loss && reference[i].last_loss);
    EXPECT_DOUBLE_EQ(*resumed[i].last_loss, *reference[i].last_loss);
    resumes += log_of(resumed[i].id).find("resuming from step") != std::string::npos;
  }
  EXPECT_EQ(resumes, 2u);
}

TEST_F(SweepTest, StaleRunningRowsAreTakenOverLiveOnesAreLeftAlone) {
  const auto exp = write_experiment("two.json", R"({
    "name": "two", "base": {"train.steps": 5}, "grid": {"seed": [0, 1]}})");
  const auto ex = grid::expand(grid::load_experiment(exp.string()));
  // A dead process held run 0; a live hcx process holds run 1.
  const pid_t live = test::start_sleeper("hcx-other-sweep", 60);
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);
  {
    store::Db db = store::open_db(dir_ / "hcx.db");
    for (const auto& run : ex.runs) store::upsert_run(db, run.id, run.config);
    store::StartInfo a;
    a.pid = dead;
    store::start_run(db, ex.runs[0].id, a);
    store::heartbeat(db, ex.runs[0].id, 3, 0);
    store::StartInfo b;
    b.pid = live;
    store::start_run(db, ex.runs[1].id, b);
  }
  auto dry = options(exp);
  dry.dry_run = true;
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(run_sweep(dry), 0);
  const std::string plan = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(plan.find(ex.runs[0].id + "  resume"), std::string::npos) << plan;
  EXPECT_NE(plan.find(ex.runs[1].id + "  running"), std::string::npos) << plan;

  EXPECT_EQ(run_sweep(options(exp)), 0);
  const auto rows = states("two");
  EXPECT_EQ(rows[0].status, "completed");
  EXPECT_NE(log_of(rows[0].id).find("resuming from step 3"), std::string::npos);
  EXPECT_EQ(rows[1].status, "running");
  EXPECT_EQ(rows[1].pid, live);
  EXPECT_FALSE(fs::exists(dir_ / "logs" / (rows[1].id + ".log")));
  test::stop_sleeper(live);
}

TEST_F(SweepTest, DryRunPrintsThePlanAndWritesNothing) {
  const auto exp = write_experiment("four.json", kFourRuns);
  auto dry = options(exp);
  dry.dry_run = true;
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(run_sweep(dry), 0);
  std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_FALSE(fs::exists(dir_ / "hcx.db"));
  EXPECT_NE(out.find("sweep four"), std::string::npos) << out;
  EXPECT_EQ(count(out, "  new  "), 4u) << out;
  EXPECT_NE(out.find("4 runs: 4 new, 0 resume, 0 done, 0 failed"), std::string::npos) << out;

  EXPECT_EQ(run_sweep(options(exp)), 0);
  dry.format = "json";
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(run_sweep(dry), 0);
  const auto j = config::Json::parse(testing::internal::GetCapturedStdout());
  EXPECT_EQ(j["totals"]["done"], 4);
  EXPECT_EQ(j["totals"]["tokens_left"], 0);
}

TEST_F(SweepTest, InvalidGridExitsTwoAndWritesNothing) {
  const auto exp = write_experiment("bad.json", R"({"grid": {"train.lr": [0.001, -1], "model.dmodel": [8]}})");
  try {
    run_sweep(options(exp));
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    const std::string what = e.what();
    EXPECT_NE(what.find(exp.string() + ": grid.model.dmodel: unknown key (did you mean 'model.d_model'?)"),
              std::string::npos)
        << what;
  }
  auto bad_flags = options(write_experiment("ok.json", "{}"));
  bad_flags.executor = "ssh";
  EXPECT_THROW(run_sweep(bad_flags), Error);
  bad_flags.executor = "local";
  bad_flags.devices = "tpu";
  EXPECT_THROW(run_sweep(bad_flags), Error);
  EXPECT_FALSE(fs::exists(dir_ / "hcx.db"));
}

}  // namespace
}  // namespace hcx::exec
