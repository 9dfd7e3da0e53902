// Reading squeue, sacct, jobcomp and scontrol output (samples from Slurm
// 22.05), the requeue decision, and running a command (no Slurm needed).
#include "hcx/slurm/client.h"

#include <sstream>

#include <gtest/gtest.h>

#include "hcx/error.h"
#include "hcx/slurm/task.h"

namespace hcx::slurm {
namespace {

TEST(SlurmSqueue, ParsesArrayTasksAndDecodesExitStatus) {
  const std::string text =
      "14|1|14|PENDING|JobArrayTaskLimit||0|\n"
      "14|0|15|FAILED|NonZeroExitCode|localhost|512|\n"
      "14|2|16|RUNNING|None|localhost|0|\n"
      "14|3|17|CANCELLED|None|localhost|9|\n"
      "14|4|18|COMPLETED|None|localhost|0|\n"
      "8|N/A|8|CANCELLED|None|localhost|768|\n"  // not an array task
      "garbage\n";
  const TaskStates s = parse_squeue(text);
  ASSERT_EQ(s.size(), 5u);
  const TaskState& pending = s.at({"14", 1});
  EXPECT_EQ(pending.state, "PENDING");
  EXPECT_EQ(pending.reason, "JobArrayTaskLimit");
  EXPECT_FALSE(pending.exit_code);
  const TaskState& failed = s.at({"14", 0});
  EXPECT_EQ(failed.job_id, "15");
  EXPECT_EQ(failed.node, "localhost");
  ASSERT_TRUE(failed.exit_code);
  EXPECT_EQ(*failed.exit_code, 2);
  EXPECT_EQ(s.at({"14", 2}).reason, "");
  EXPECT_FALSE(s.at({"14", 2}).exit_code);  // still running: no exit yet
  EXPECT_EQ(s.at({"14", 3}).signal, 9);
  EXPECT_EQ(*s.at({"14", 4}).exit_code, 0);
  EXPECT_EQ(s.at({"14", 4}).source, "squeue");
}

TEST(SlurmSacct, ParsesStatesExitPairsAndPendingRanges) {
  const std::string text =
      "120_0|COMPLETED|0:0|node1\n"
      "120_1|CANCELLED by 1000|0:15|node2\n"
      "120_2|FAILED|2:0|node1\n"
      "120_[3-5%2]|PENDING|0:0|None assigned\n"
      "121|COMPLETED|0:0|node1\n"            // not an array
      "120_0.batch|COMPLETED|0:0|node1\n";   // a step
  const TaskStates s = parse_sacct(text);
  ASSERT_EQ(s.size(), 6u);
  EXPECT_EQ(*s.at({"120", 0}).exit_code, 0);
  EXPECT_EQ(s.at({"120", 1}).state, "CANCELLED");
  EXPECT_EQ(s.at({"120", 1}).signal, 15);
  EXPECT_EQ(*s.at({"120", 2}).exit_code, 2);
  for (int i : {3, 4, 5}) EXPECT_EQ(s.at({"120", i}).state, "PENDING") << i;
  EXPECT_EQ(s.at({"120", 2}).source, "sacct");
}

TEST(SlurmJobcomp, LastTerminalLineOfEachTaskWinsAndOtherArraysAreSkipped) {
  const std::string head = "UserId=root(0) GroupId=root(0) Name=hcx-s ";
  std::istringstream in(
      "JobId=25 " + head + "JobState=PENDING Partition=debug NodeList=localhost ArrayJobId=24 ArrayTaskId=0 "
      "DerivedExitCode=0:0 ExitCode=0:0 \n"  // the requeue's line
      "JobId=24 " + head + "JobState=FAILED Partition=debug NodeList=localhost ArrayJobId=24 ArrayTaskId=2 "
      "DerivedExitCode=0:0 ExitCode=2:0 \n"
      "JobId=25 " + head + "JobState=COMPLETED Partition=debug NodeList=localhost ArrayJobId=24 ArrayTaskId=0 "
      "DerivedExitCode=0:0 ExitCode=0:0 \n"
      "JobId=30 " + head + "JobState=COMPLETED NodeList=localhost ArrayJobId=29 ArrayTaskId=0 ExitCode=0:0 \n"
      "JobId=31 " + head + "JobState=COMPLETED NodeList=localhost ExitCode=0:0 \n");
  const TaskStates s = parse_jobcomp(in, {"24"});
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s.at({"24", 0}).state, "COMPLETED");
  EXPECT_EQ(s.at({"24", 0}).job_id, "25");
  EXPECT_EQ(*s.at({"24", 2}).exit_code, 2);
  EXPECT_EQ(s.at({"24", 2}).source, "jobcomp");
}

TEST(SlurmConfig, AccountingJobcompAndRestarts) {
  ClusterConfig c = parse_show_config(
      "Configuration data as of 2026-11-29T10:00:00\n"
      "AccountingStorageType   = accounting_storage/none\n"
      "JobCompLoc              = /tmp/hcx-slurm/jobcomp.txt\n"
      "JobCompType             = jobcomp/filetxt\n");
  EXPECT_FALSE(c.accounting);
  EXPECT_EQ(c.jobcomp_type, "jobcomp/filetxt");
  EXPECT_EQ(c.jobcomp_loc, "/tmp/hcx-slurm/jobcomp.txt");
  c = parse_show_config("AccountingStorageType = accounting_storage/slurmdbd\n");
  EXPECT_TRUE(c.accounting);

  EXPECT_EQ(parse_restarts("JobId=6 JobName=a JobState=COMPLETING Requeue=1 Restarts=1 BatchFlag=1"), 1);
  EXPECT_EQ(parse_restarts("JobId=6 Restarts=12\n"), 12);
  EXPECT_FALSE(parse_restarts("JobId=6"));

  EXPECT_EQ(parse_sbatch_job_id("123\n"), "123");
  EXPECT_EQ(parse_sbatch_job_id("123;cluster\n"), "123");
  EXPECT_EQ(parse_sbatch_job_id("sbatch: error: nope\n"), "");
}

TEST(SlurmStates, ActiveAndTerminalAreDisjoint) {
  for (const char* s : {"PENDING", "RUNNING", "REQUEUED", "SUSPENDED", "COMPLETING", "CONFIGURING"}) {
    EXPECT_TRUE(is_active_state(s)) << s;
    EXPECT_FALSE(is_terminal_state(s)) << s;
  }
  for (const char* s : {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "OUT_OF_MEMORY"}) {
    EXPECT_TRUE(is_terminal_state(s)) << s;
    EXPECT_FALSE(is_active_state(s)) << s;
  }
}

TEST(SlurmRequeue, DecisionTable) {
  using D = RequeueDecision;
  const struct {
    bool interrupted, cancelled;
    int64_t restarts;
    int max;
    std::optional<int64_t> slurm_restarts;
    D want;
  } cases[] = {
      {false, false, 0, 3, std::nullopt, D::kNotInterrupted},
      {true, false, 0, 3, std::nullopt, D::kRequeue},
      {true, false, 2, 3, 2, D::kRequeue},
      {true, false, 3, 3, 3, D::kLimitReached},
      {true, false, 0, 0, 0, D::kLimitReached},
      {true, true, 0, 3, std::nullopt, D::kCancelled},
      {true, false, 0, 3, 1, D::kSlurmRequeues},  // scontrol requeue / preemption: Slurm already counted it
      {true, true, 0, 3, 1, D::kCancelled},
  };
  for (const auto& c : cases) {
    RequeueFacts f;
    f.interrupted = c.interrupted;
    f.cancelled = c.cancelled;
    f.restart_count = c.restarts;
    f.max_requeues = c.max;
    f.slurm_restarts = c.slurm_restarts;
    EXPECT_EQ(decide_requeue(f), c.want) << c.interrupted << c.cancelled << c.restarts << c.max;
  }
  RequeueFacts f;
  f.interrupted = true;
  f.restart_count = 1;
  EXPECT_EQ(describe(D::kRequeue, f), "requeueing: attempt 3 of at most 4 resumes from the checkpoint");
  f.restart_count = 3;
  EXPECT_EQ(describe(D::kLimitReached, f),
            "not requeued: 3 requeues already (--max-requeues 3); run the sweep again to resume it");
}

TEST(SlurmTool, CapturesOutputAndExitAndNamesAMissingTool) {
  const ToolResult r = run_tool({"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  try {
    run_tool({"hcx-no-such-tool"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 1);
    EXPECT_NE(std::string(e.what()).find("hcx-no-such-tool: not found on PATH"), std::string::npos) << e.what();
  }
  EXPECT_EQ(find_tool("hcx-no-such-tool"), "");
  EXPECT_NE(find_tool("sh"), "");
}

}  // namespace
}  // namespace hcx::slurm
