// The Slurm flags, manifests, array scripts and submission lists (no Slurm needed).
#include "hcx/slurm/files.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "common/temp_dir.h"
#include "hcx/error.h"
#include "hcx/slurm/options.h"

namespace hcx::slurm {
namespace {

namespace fs = std::filesystem;

using hcx::test::TempDir;

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

std::string bad_input_message(const SlurmOptions& o) {
  try {
    validate(o);
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    return e.what();
  }
  return "";
}

TEST(SlurmTime, ParsesEverySlurmForm) {
  const struct {
    const char* text;
    long seconds;
  } cases[] = {{"30", 1800},          {"10:30", 630},        {"04:00:00", 14400}, {"1-0", 86400},
               {"2-03:04", 183840}, {"1-00:00:01", 86401}};
  for (const auto& c : cases) {
    const auto s = parse_slurm_time(c.text);
    ASSERT_TRUE(s) << c.text;
    EXPECT_EQ(*s, c.seconds) << c.text;
  }
  for (const char* bad : {"", "abc", "4h", "1:2:3:4", "-5", "1-", "1-2:3:4:5", "04:00:x"})
    EXPECT_FALSE(parse_slurm_time(bad)) << bad;
}

TEST(SlurmOptions, ValidateNamesTheFlag) {
  EXPECT_EQ(bad_input_message(SlurmOptions{}), "");
  SlurmOptions o;
  o.time = "4h";
  EXPECT_TRUE(has(bad_input_message(o), "--time: expected minutes")) << bad_input_message(o);
  o = {};
  o.time = "00:04:00";  // 240 s, shorter than the default grace of 300 s
  EXPECT_TRUE(has(bad_input_message(o), "--signal-grace 300 s must be shorter than --time 00:04:00"));
  o.signal_grace_s = 60;
  EXPECT_EQ(bad_input_message(o), "");
  o = {};
  o.max_parallel = -1;
  EXPECT_TRUE(has(bad_input_message(o), "--max-parallel"));
  o = {};
  o.mem = "lots";
  EXPECT_TRUE(has(bad_input_message(o), "--mem: expected a size"));
  o.mem = "8G";
  EXPECT_EQ(bad_input_message(o), "");
  o = {};
  o.sbatch_args = {"--array=0-3"};
  EXPECT_TRUE(has(bad_input_message(o), "hcx sets --array itself"));
  o = {};
  o.max_requeues = -2;
  EXPECT_TRUE(has(bad_input_message(o), "--max-requeues"));
}

TEST(SlurmManifest, RoundTripsAndFindsIndices) {
  TempDir dir;
  const fs::path path = dir.path() / "slurm/s/manifest-1.json";
  Manifest m{"s", "/abs/hcx.db", "/abs", {{0, "aaa", "Pre-Norm"}, {1, "bbb", "DHC×2 seed=1"}}};
  write_manifest(path, m);
  const Manifest back = read_manifest(path);
  EXPECT_EQ(back.sweep, "s");
  EXPECT_EQ(back.db, "/abs/hcx.db");
  EXPECT_EQ(back.results, "/abs");
  ASSERT_EQ(back.runs.size(), 2u);
  ASSERT_TRUE(back.find(1));
  EXPECT_EQ(back.find(1)->run_id, "bbb");
  EXPECT_EQ(back.find(1)->name, "DHC×2 seed=1");
  EXPECT_EQ(back.find(2), nullptr);
  EXPECT_FALSE(fs::exists(path.string() + ".tmp"));
}

TEST(SlurmManifest, MissingOrMalformedIsBadInputNamingTheFile) {
  TempDir dir;
  const fs::path path = dir.path() / "manifest-1.json";
  try {
    read_manifest(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_TRUE(has(e.what(), path.string() + ": no such manifest")) << e.what();
  }
  std::ofstream(path) << R"({"format": "hcx-slurm-manifest/1", "sweep": "s"})";
  try {
    read_manifest(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_TRUE(has(e.what(), path.string() + ": malformed manifest")) << e.what();
  }
}

TEST(SlurmScript, ArraySpecHasTheLimitOnlyWhenSet) {
  EXPECT_EQ(array_spec(3, 0), "0-2");
  EXPECT_EQ(array_spec(3, 2), "0-2%2");
  EXPECT_EQ(array_spec(1, 0), "0-0");
}

TEST(SlurmScript, AsksForEverythingAndExecsTheTask) {
  ScriptSpec spec{"/opt/hcx/bin/hcx", "/r/slurm/s/manifest-2.json", "/home/me/proj", "/r/slurm/s/logs", "hcx-s", {}};
  spec.options.partition = "gpu";
  spec.options.account = "lab";
  spec.options.gres = "gpu:1";
  spec.options.time = "04:00:00";
  spec.options.cpus_per_task = 4;
  spec.options.mem = "16G";
  spec.options.max_requeues = 5;
  const std::string s = array_script(spec);
  EXPECT_EQ(s.rfind("#!/bin/bash\n", 0), 0u);
  for (const char* line :
       {"#SBATCH --job-name=hcx-s\n", "#SBATCH --output=/r/slurm/s/logs/%A_%a.out\n", "#SBATCH --open-mode=append\n",
        "#SBATCH --chdir=/home/me/proj\n", "#SBATCH --requeue\n", "#SBATCH --signal=B:USR1@300\n",
        "#SBATCH --partition=gpu\n", "#SBATCH --account=lab\n", "#SBATCH --gres=gpu:1\n", "#SBATCH --time=04:00:00\n",
        "#SBATCH --cpus-per-task=4\n", "#SBATCH --mem=16G\n",
        "exec '/opt/hcx/bin/hcx' slurm-task --manifest '/r/slurm/s/manifest-2.json' --threads 4 --device cuda "
        "--max-requeues 5\n"})
    EXPECT_TRUE(has(s, line)) << line << "\nin:\n" << s;
  // The #SBATCH lines come before the first command, or sbatch ignores them.
  EXPECT_LT(s.find("#SBATCH --mem"), s.find("\nexec "));
}

TEST(SlurmScript, DefaultsAskForNothingExtraAndQuotePaths) {
  ScriptSpec spec{"/x/it's/hcx", "/r s/manifest-1.json", "/w d", "/r s/logs", "hcx-s", {}};
  spec.options.signal_grace_s = 0;
  const std::string s = array_script(spec);
  for (const char* absent : {"--signal", "--partition", "--account", "--gres", "--time", "--cpus-per-task", "--mem",
                             "--threads", "--device"})
    EXPECT_FALSE(has(s, absent)) << absent;
  EXPECT_TRUE(has(s, "#SBATCH --chdir=\"/w d\"\n"));
  EXPECT_TRUE(has(s, "#SBATCH --output=\"/r s/logs/%A_%a.out\"\n"));
  EXPECT_TRUE(has(s, "exec '/x/it'\\''s/hcx' slurm-task --manifest '/r s/manifest-1.json' --max-requeues 3\n"));
  spec.options.partition = "a\nb";
  EXPECT_THROW(array_script(spec), Error);
}

TEST(SlurmSubmissions, AppendReadNumberAndCancelled) {
  TempDir dir;
  EXPECT_TRUE(read_submissions(dir.path()).empty());
  EXPECT_EQ(next_submission_number(dir.path()), 1);
  append_submission(dir.path(), {1, "120", "2026-11-29T10:00:00.000Z", 3});
  append_submission(dir.path(), {2, "135", "2026-11-29T11:00:00.000Z", 1});
  const auto subs = read_submissions(dir.path());
  ASSERT_EQ(subs.size(), 2u);
  EXPECT_EQ(subs[1].number, 2);
  EXPECT_EQ(subs[1].job_id, "135");
  EXPECT_EQ(subs[1].runs, 1u);
  EXPECT_EQ(next_submission_number(dir.path()), 3);
  // A manifest written by a submission that Slurm refused still takes its number.
  std::ofstream(manifest_path(dir.path(), 3)) << "{}";
  EXPECT_EQ(next_submission_number(dir.path()), 4);
  EXPECT_EQ(script_path(dir.path(), 4).filename(), "array-4.sh");

  EXPECT_TRUE(read_cancelled(dir.path()).empty());
  append_cancelled(dir.path(), {"120"});
  append_cancelled(dir.path(), {"135", "140"});
  EXPECT_EQ(read_cancelled(dir.path()), (std::vector<std::string>{"120", "135", "140"}));
}

}  // namespace
}  // namespace hcx::slurm
