// Progress records of `hcx run` and log tails.
#include "hcx/exec/progress.h"

#include <fstream>

#include <gtest/gtest.h>

#include "common/temp_dir.h"

namespace hcx::exec {
namespace {

TEST(ParseProgress, Fields) {
  auto p = parse_progress("hcx-progress step=120/300 loss=2.345 tokens_per_s=51234.5 eta_s=42");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->step, 120);
  EXPECT_EQ(p->total, 300);
  EXPECT_DOUBLE_EQ(p->loss, 2.345);
  EXPECT_DOUBLE_EQ(p->tokens_per_s, 51234.5);
  EXPECT_DOUBLE_EQ(p->eta_s, 42);

  p = parse_progress("[10:00:00] info hcx-progress eta_s=1 step=5 loss=nan extra=1");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->step, 5);
  EXPECT_EQ(p->total, 0);
  EXPECT_TRUE(std::isnan(p->loss));
  EXPECT_TRUE(std::isnan(p->tokens_per_s));

  EXPECT_FALSE(parse_progress("step 5 loss 2.0"));
  EXPECT_FALSE(parse_progress("hcx-progress loss=2.0"));
  EXPECT_FALSE(parse_progress("hcx-progress step=x/10"));
}

TEST(LogFollower, SeesOnlyNewCompleteLines) {
  const hcx::test::TempDir dir("progress");
  const auto path = dir / "follow.log";
  {
    std::ofstream(path) << "hcx-progress step=1/9 loss=5\nold attempt\n";
  }
  LogFollower f(path);
  f.skip_to_end();
  EXPECT_FALSE(f.poll());
  EXPECT_FALSE(f.latest());
  {
    std::ofstream out(path, std::ios::app);
    out << "noise\nhcx-progress step=3/9 loss=4\nhcx-progress step=4/9 lo";
  }
  EXPECT_TRUE(f.poll());
  EXPECT_EQ(f.latest()->step, 3);
  {
    std::ofstream out(path, std::ios::app);
    out << "ss=3.5\n";
  }
  EXPECT_TRUE(f.poll());
  EXPECT_EQ(f.latest()->step, 4);
  EXPECT_DOUBLE_EQ(f.latest()->loss, 3.5);
  EXPECT_FALSE(f.poll());
}

TEST(LogFollower, MissingFileIsQuiet) {
  const hcx::test::TempDir dir("progress");
  LogFollower f(dir / "missing.log");
  EXPECT_FALSE(f.poll());
}

TEST(LogTail, LastLinesWithoutProgressRecords) {
  const hcx::test::TempDir dir("progress");
  const auto path = dir / "tail.log";
  {
    std::ofstream out(path);
    for (int i = 0; i < 20; ++i) out << "line " << i << "\nhcx-progress step=" << i << "\n";
    out << "\nerror: out of memory  \n==== 2026-11-29T10:00:00.000Z hcx sweep: killed by signal 9 after 1.000 s\n";
  }
  EXPECT_EQ(log_tail(path, 3), "line 18\nline 19\nerror: out of memory");
  EXPECT_EQ(log_tail(dir / "none.log"), "");
}

}  // namespace
}  // namespace hcx::exec
