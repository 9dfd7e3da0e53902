// The `hcx status` report: count line, run table, extra columns, JSON.
#include "hcx/view/status.h"

#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace hcx::view {
namespace {

StatusReport sample() {
  StatusReport r;
  r.sweep = "quick";
  r.counts = {{"completed", 1}, {"running", 1}, {"failed", 1}, {"pending", 0}};
  store::RunState done;
  done.id = "aaaa";
  done.status = RunStatus::kCompleted;
  done.step = done.total_steps = 200;
  done.heartbeat_age_s = 3725;
  done.device = "cuda:0";
  done.last_loss = 2.345678;
  store::RunState live;
  live.id = "bbbb";
  live.status = RunStatus::kRunning;
  live.step = 120;
  live.total_steps = 200;
  live.heartbeat_age_s = 4.2;
  live.device = "cuda:1";
  live.pid = 77;
  store::RunState bad;
  bad.id = "cccc";
  bad.status = RunStatus::kFailed;
  bad.error = "CUDA out of memory\nwhile allocating";
  r.runs = {done, live, bad};
  return r;
}

TEST(StatusReport, TableWithExtraColumnAndErrors) {
  StatusReport r = sample();
  r.extra.push_back({"slurm", {{"bbbb", "RUNNING"}, {"cccc", "FAILED"}}});
  std::ostringstream out;
  write_status_table(r, out);
  EXPECT_EQ(out.str(),
            "sweep quick: 3 runs: 1 running, 1 completed, 1 failed\n"
            "\n"
            "run   status     step     heartbeat  device  loss    slurm    error\n"
            "----  ---------  -------  ---------  ------  ------  -------  " + std::string(35, '-') + "\n" +
            "aaaa  completed  200/200  1h02m      cuda:0  2.3457\n"
            "bbbb  running    120/200  4s         cuda:1  -       RUNNING\n"
            "cccc  failed     0        -          -       -       FAILED   CUDA out of memory while allocating\n");
}

TEST(StatusReport, EmptyDatabase) {
  StatusReport r;
  std::ostringstream out;
  write_status_table(r, out);
  EXPECT_EQ(out.str(), "0 runs\n");
}

TEST(StatusReport, JsonHasNullsForMissingValues) {
  std::ostringstream out;
  StatusReport r = sample();
  r.extra.push_back({"slurm", {{"bbbb", "RUNNING"}}});
  write_status_json(r, out);
  const auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["sweep"], "quick");
  EXPECT_EQ(j["counts"]["failed"], 1);
  EXPECT_EQ(j["runs"][1]["pid"], 77);
  EXPECT_EQ(j["runs"][1]["slurm"], "RUNNING");
  EXPECT_TRUE(j["runs"][0]["slurm"].is_null());
  EXPECT_TRUE(j["runs"][0]["pid"].is_null());
  EXPECT_TRUE(j["runs"][2]["total_steps"].is_null());
  EXPECT_EQ(j["runs"][2]["error"], "CUDA out of memory\nwhile allocating");
}

}  // namespace
}  // namespace hcx::view
