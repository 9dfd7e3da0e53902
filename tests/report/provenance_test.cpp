// Provenance footnotes: runs compared that different builds or different data
// trained are named, with counts; agreeing or unrecorded runs add nothing.
#include "hcx/report/provenance.h"

#include <gtest/gtest.h>

#include "hcx/report/compute.h"
#include "hcx/report/load.h"
#include "hcx/store/runs.h"
#include "report/fixture.h"

namespace hcx::report {
namespace {

const std::string kA = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d";
const std::string kB = "ffffffffffffffffffffffffffffffffffffffff";

std::vector<size_t> all(const ReportInput& in) {
  std::vector<size_t> v(in.runs.size());
  for (size_t i = 0; i < v.size(); ++i) v[i] = i;
  return v;
}

TEST(ProvenanceNotes, NamedWhenBuildsOrDataDiffer) {
  ReportInput in = fixture::known_input();  // 6 runs
  EXPECT_TRUE(provenance_notes(in, all(in)).empty());  // nothing recorded: nothing to say
  for (auto& r : in.runs) r.provenance = {"0.2.0", kA, "synthetic"};
  EXPECT_TRUE(provenance_notes(in, all(in)).empty());
  in.runs[0].provenance.code_version = "";  // unrecorded fields do not count
  in.runs[0].provenance.code_commit = "";
  in.runs[1].provenance.data_id = "";
  EXPECT_TRUE(provenance_notes(in, all(in)).empty());

  in.runs[4].provenance = {"0.1.0", kB + "-dirty", "4096:0123456789abcdef"};
  in.runs[5].provenance = {"0.2.0", kA, "4096:0123456789abcdef"};
  EXPECT_EQ(provenance_notes(in, all(in)),
            (std::vector<std::string>{
                "runs compared were trained by 2 builds: 0.2.0 1a2b3c4 (4 runs), 0.1.0 fffffff-dirty (1 run); "
                "hcx sweep --retrain-stale trains the stale ones again with this build",
                "runs compared were trained on 2 different data (runs.data_id): synthetic (3 runs), "
                "4096:0123456789abcdef (2 runs)"}));
  // Only the runs compared count.
  EXPECT_TRUE(provenance_notes(in, {0, 1, 2}).empty());

  // compute_report adds them to its notes (the renderings print "note: ...").
  const Report rep = compute_report(in, ReportOptions{});
  ASSERT_EQ(rep.notes.size(), 2u);
  EXPECT_EQ(rep.notes[0].rfind("runs compared were trained by 2 builds: ", 0), 0u) << rep.notes[0];
}

TEST(ProvenanceNotes, LongDataIdsAreShortened) {
  ReportInput in = fixture::known_input();
  const std::string two_files = "1048576:0123456789abcdef 2048:fedcba9876543210";
  in.runs[0].provenance.data_id = "synthetic";
  in.runs[1].provenance.data_id = two_files;
  EXPECT_EQ(provenance_notes(in, {0, 1}),
            (std::vector<std::string>{"runs compared were trained on 2 different data (runs.data_id): synthetic (1 run), " +
                                      two_files.substr(0, 40) + "\u2026 (1 run)"}));
}

class ProvenanceLoad : public fixture::KnownDbTest {};

TEST_F(ProvenanceLoad, LoadReadsWhatTheRunsRecorded) {
  {
    store::Db db = store::open_db(db_path_);
    store::set_provenance(db, "hc-seed1", {"0.1.0", kB, "synthetic"});
  }
  store::Db db = store::open_db(db_path_, store::OpenMode::kReadOnly);
  const ReportInput in = load_input(db, Selection{}, LoadScope{});
  for (const auto& r : in.runs) {
    if (r.id == "hc-seed1") {
      EXPECT_EQ(r.provenance.code_version, "0.1.0");
      EXPECT_EQ(r.provenance.code_commit, kB);
      EXPECT_EQ(r.provenance.data_id, "synthetic");
    } else {
      EXPECT_EQ(r.provenance.code_version, "") << r.id;
    }
  }
}

}  // namespace
}  // namespace hcx::report
