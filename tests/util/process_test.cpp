// Tests of run_process (lib/hcx/util/process.h): output captured merged or
// apart, exit codes and signals, stdin closed, and the error of a program
// that cannot run. The children are /bin/sh one-liners. And the environment
// of a training process (training_env, environ_with).
#include "hcx/util/process.h"

#include <algorithm>
#include <cstdlib>
#include <optional>

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

// Sets (or, with nullopt, unsets) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      setenv(name, value->c_str(), 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(TrainingEnv, ThreadCountsAndHcxsWaitsWhenTheUserSetNone) {
  const ScopedEnv spin("GOMP_SPINCOUNT", std::nullopt), policy("OMP_WAIT_POLICY", std::nullopt),
      timeout("OPENBLAS_THREAD_TIMEOUT", std::nullopt);
  EXPECT_EQ(training_env(2), (EnvVars{{"OMP_NUM_THREADS", "2"},
                                      {"OPENBLAS_NUM_THREADS", "2"},
                                      {"MKL_NUM_THREADS", "2"},
                                      {"GOMP_SPINCOUNT", "30000"},
                                      {"OPENBLAS_THREAD_TIMEOUT", "20"}}));
  // threads 0: the run's config decides
  EXPECT_EQ(training_env(0), (EnvVars{{"GOMP_SPINCOUNT", "30000"}, {"OPENBLAS_THREAD_TIMEOUT", "20"}}));
}

TEST(TrainingEnv, TheUsersSpinCountWaitPolicyOrTimeoutWins) {
  const ScopedEnv timeout("OPENBLAS_THREAD_TIMEOUT", "4");
  {
    const ScopedEnv spin("GOMP_SPINCOUNT", "0"), policy("OMP_WAIT_POLICY", std::nullopt);
    EXPECT_EQ(training_env(1),
              (EnvVars{{"OMP_NUM_THREADS", "1"}, {"OPENBLAS_NUM_THREADS", "1"}, {"MKL_NUM_THREADS", "1"}}));
  }
  const ScopedEnv spin("GOMP_SPINCOUNT", std::nullopt), policy("OMP_WAIT_POLICY", "PASSIVE");
  EXPECT_EQ(training_env(0), EnvVars{});
}

TEST(TrainingEnv, EnvironWithReplacesSameNamedEntriesAndKeepsTheRest) {
  const ScopedEnv a("HCX_TEST_KEEP", "kept"), b("HCX_TEST_SET", "old");
  const std::vector<std::string> env = environ_with({{"HCX_TEST_SET", "new"}, {"HCX_TEST_ADD", "x=y"}});
  const auto count = [&](const std::string& e) { return std::count(env.begin(), env.end(), e); };
  EXPECT_EQ(count("HCX_TEST_KEEP=kept"), 1);
  EXPECT_EQ(count("HCX_TEST_SET=old"), 0);
  EXPECT_EQ(count("HCX_TEST_SET=new"), 1);
  EXPECT_EQ(count("HCX_TEST_ADD=x=y"), 1);
  EXPECT_EQ(env.back(), "HCX_TEST_ADD=x=y");  // the set entries last, in their order
}

}  // namespace
}  // namespace hcx::util
