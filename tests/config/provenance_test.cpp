// Provenance: this build, build labels and when a trained run is stale.
#include "hcx/config/provenance.h"

#include <gtest/gtest.h>

#include "hcx/build_info.h"
#include "hcx/error.h"
#include "hcx/version.h"

namespace hcx::config {
namespace {

const std::string kSha = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d";

TEST(Provenance, ThisBuildIsTheVersionAndCommit) {
  const Provenance p = this_build();
  EXPECT_EQ(p.code_version, kVersion);
  EXPECT_EQ(p.code_commit, build_commit());
  EXPECT_EQ(p.data_id, "");
  // A commit is 40 hex digits, maybe "-dirty"; or "" outside a checkout.
  const std::string c = p.code_commit;
  if (!c.empty()) {
    ASSERT_GE(c.size(), 40u) << c;
    EXPECT_EQ(c.substr(0, 40).find_first_not_of("0123456789abcdef"), std::string::npos) << c;
    EXPECT_TRUE(c.size() == 40 || c.substr(40) == "-dirty") << c;
  }
}

TEST(Provenance, RunProvenanceChecksTheFilesFirst) {
  RunConfig c;
  EXPECT_EQ(run_provenance(c).data_id, "synthetic");
  c.data.source = "text";
  c.data.path = "/nonexistent/hcx/corpus.txt";
  c.eval.tasks.push_back({"hs", "choice", "/nonexistent/hcx/hs.jsonl"});
  try {
    run_provenance(c, "run 0123456789abcdef");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "run 0123456789abcdef: data.path: /nonexistent/hcx/corpus.txt: file not found\n"
              "run 0123456789abcdef: eval.tasks[0].path: /nonexistent/hcx/hs.jsonl: file not found");
    EXPECT_EQ(e.exit_code(), 2);
  }
}

TEST(Provenance, BuildLabels) {
  EXPECT_EQ(build_label({"0.1.0", kSha, ""}), "0.1.0 1a2b3c4");
  EXPECT_EQ(build_label({"0.1.0", kSha + "-dirty", ""}), "0.1.0 1a2b3c4-dirty");
  EXPECT_EQ(build_label({"0.1.0", "", ""}), "0.1.0");
  EXPECT_EQ(build_label({"", "", ""}), "unknown");
}

TEST(Provenance, StaleReasons) {
  const Provenance now{"0.2.0", kSha, "6:85944171f73967e8"};
  const struct {
    Provenance trained;
    const char* why;
  } cases[] = {
      {now, ""},
      {{"0.1.0", kSha, now.data_id}, "trained by 0.1.0 1a2b3c4"},
      {{"0.2.0", "ffffffffffffffffffffffffffffffffffffffff", now.data_id}, "trained by 0.2.0 fffffff"},
      {{"0.2.0", kSha + "-dirty", now.data_id}, "trained by 0.2.0 1a2b3c4-dirty"},
      {{"0.2.0", kSha, "synthetic"}, "data changed"},
      {{"0.1.0", "", "synthetic"}, "trained by 0.1.0, data changed"},
      {{"0.2.0", "", now.data_id}, ""},  // commit unknown on one side: not compared
      {{"", "", ""}, ""},                // never recorded (before schema 2)
  };
  for (const auto& c : cases) EXPECT_EQ(stale_reason(c.trained, now), c.why) << c.trained.code_commit;
  EXPECT_EQ(stale_reason({"0.2.0", kSha, "synthetic"}, {"0.2.0", "", ""}), "");  // current data unknown
}

}  // namespace
}  // namespace hcx::config
