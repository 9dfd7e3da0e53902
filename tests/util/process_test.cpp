// Tests of run_process (lib/hcx/util/process.h): output captured merged or
// apart, exit codes and signals, stdin closed, and the error of a program
// that cannot run. The children are /bin/sh one-liners.
#include "hcx/util/process.h"

#include <gtest/gtest.h>

#include "hcx/error.h"

namespace hcx::util {
namespace {

TEST(RunProcess, MergedOutputKeepsTheOrderOfWrites) {
  const auto r = run_process({"/bin/sh", "-c", "echo one; echo two >&2; echo three"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "one\ntwo\nthree\n");
  EXPECT_EQ(r.err, "");
}

TEST(RunProcess, SeparateStreamsAndTheExitCode) {
  const auto r = run_process({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, StderrTo::kSeparate);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
}

TEST(RunProcess, LargeOutputOnBothStreamsDoesNotDeadlock) {
  // 200 kB on each stream: more than a pipe buffer, so both must be read as they fill.
  const auto r =
      run_process({"/bin/sh", "-c", "head -c 200000 /dev/zero; head -c 200000 /dev/zero >&2"}, StderrTo::kSeparate);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.size(), 200000u);
  EXPECT_EQ(r.err.size(), 200000u);
}

TEST(RunProcess, SignalIs128PlusItsNumberAndStdinIsEmpty) {
  EXPECT_EQ(run_process({"/bin/sh", "-c", "kill -TERM $$"}).exit_code, 128 + 15);
  EXPECT_EQ(run_process({"/bin/sh", "-c", "cat; echo end"}).out, "end\n");  // stdin is /dev/null: cat ends at once
}

TEST(RunProcess, AProgramThatCannotRunIsAnIoErrorNamingIt) {
  try {
    run_process({"/nonexistent/hcx-tool", "x"});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kIo);
    EXPECT_EQ(std::string(e.what()), "cannot run /nonexistent/hcx-tool: No such file or directory");
  }
  EXPECT_THROW(run_process({}), Error);
}

}  // namespace
}  // namespace hcx::util
