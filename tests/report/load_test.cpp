// Loading a report's input from a real results database (the store's schema,
// rows as the trainer's sink leaves them): the same figures as in memory.
#include "hcx/report/load.h"

#include <gtest/gtest.h>

#include "hcx/error.h"
#include "hcx/report/compute.h"
#include "report/fixture.h"

namespace hcx::report {
namespace {

using LoadInput = fixture::KnownDbTest;

TEST_F(LoadInput, ReadsWhatWasWritten) {
  const store::Db db = store::open_db(db_path_, store::OpenMode::kReadOnly);
  LoadScope scope;
  scope.diagnostics = true;
  scope.matrices = true;
  const ReportInput got = load_input(db, Selection{}, scope);
  const ReportInput want = fixture::known_input();
  EXPECT_EQ(got.sweep, "known");  // the latest (only) sweep
  ASSERT_EQ(got.runs.size(), want.runs.size());
  for (size_t i = 0; i < want.runs.size(); ++i) {
    const RunData &g = got.runs[i], &w = want.runs[i];
    EXPECT_EQ(g.id, w.id);  // grid order
    EXPECT_EQ(g.status, w.status);
    EXPECT_EQ(g.params, w.params);
    EXPECT_EQ(g.param_count, w.param_count);
    EXPECT_EQ(g.tokens_per_s, w.tokens_per_s);
    EXPECT_EQ(g.summary, w.summary);
    ASSERT_EQ(g.curves.size(), 2u);
    for (const char* name : {"train/loss", "val/loss"}) {
      EXPECT_EQ(g.curves.at(name).steps, w.curves.at(name).steps);
      EXPECT_EQ(g.curves.at(name).values, w.curves.at(name).values);
    }
    EXPECT_EQ(g.spikes.size(), w.spikes.size());
    EXPECT_EQ(g.evals.size(), w.evals.size());
    EXPECT_EQ(g.layer_stats.size(), w.layer_stats.size());
    std::map<std::pair<std::string, int64_t>, std::vector<double>> gm, wm;
    for (const auto& m : g.matrices) gm[{m.name, m.layer}] = m.values;
    for (const auto& m : w.matrices) wm[{m.name, m.layer}] = m.values;
    EXPECT_EQ(gm, wm);
  }
  // The same comparison either way.
  const Report a = compute_report(got, ReportOptions{}), b = compute_report(want, ReportOptions{});
  EXPECT_DOUBLE_EQ(a.groups[1].delta->ci_low, b.groups[1].delta->ci_low);
  EXPECT_DOUBLE_EQ(*a.groups[1].speedup->group.speedup, *b.groups[1].speedup->group.speedup);
}

TEST_F(LoadInput, DiagnosticsAndMatricesOnlyWhenAsked) {
  const store::Db db = store::open_db(db_path_, store::OpenMode::kReadOnly);
  ReportInput in = load_input(db, Selection{}, LoadScope{});
  EXPECT_TRUE(in.runs[3].layer_stats.empty());
  EXPECT_TRUE(in.runs[3].matrices.empty());
  EXPECT_EQ(in.runs[3].evals.size(), 4u);
  load_matrices(db, in, {4});  // hc seed 1 only
  EXPECT_TRUE(in.runs[3].matrices.empty());
  EXPECT_EQ(in.runs[4].matrices.size(), 5u);  // 4 sublayers' "hc" + "unfolded"
}

TEST_F(LoadInput, WhereFiltersAndUnknownNamesAreErrors) {
  const store::Db db = store::open_db(db_path_, store::OpenMode::kReadOnly);
  Selection sel;
  sel.where = {{"residual.kind", "hc"}, {"seed", "1.0"}};  // numbers compare by value
  const ReportInput in = load_input(db, sel, LoadScope{});
  ASSERT_EQ(in.runs.size(), 1u);
  EXPECT_EQ(in.runs[0].id, "hc-seed1");
  std::string sweep;
  EXPECT_EQ(select_run_ids(db, sel, &sweep), std::vector<std::string>{"hc-seed1"});
  EXPECT_EQ(sweep, "known");

  sel.where = {{"residual.knd", "hc"}};
  EXPECT_THROW(load_input(db, sel, LoadScope{}), Error);
  Selection bad_sweep;
  bad_sweep.sweep = "knwon";
  try {
    load_input(db, bad_sweep, LoadScope{});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find("--sweep knwon: no such sweep in "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("(did you mean 'known'?)"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hcx::report
