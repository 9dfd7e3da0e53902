// --export: every row of the selected runs, numbers read back exactly.
#include "hcx/report/export.h"

#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "hcx/error.h"
#include "report/fixture.h"

namespace hcx::report {
namespace {

class Export : public fixture::KnownDbTest {
 protected:
  std::string run(const std::vector<std::string>& ids, const std::string& what, const std::string& format) {
    const store::Db db = store::open_db(db_path_, store::OpenMode::kReadOnly);
    std::ostringstream out;
    export_rows(db, ids, what, format, out);
    return out.str();
  }
};

TEST_F(Export, MetricsCsvEveryPoint) {
  const std::string csv = run({"hc-seed1", "pn-seed0"}, "metrics", "csv");
  // 2 runs × (3 train + 4 val points) + header; ordered by run, name, step.
  EXPECT_EQ(csv,
            "run_id,name,step,value\n"
            "hc-seed1,train/loss,1,3\nhc-seed1,train/loss,2,1\nhc-seed1,train/loss,3,3\n"
            "hc-seed1,val/loss,100,3.98\nhc-seed1,val/loss,200,1.98\nhc-seed1,val/loss,300,1.98\n"
            "hc-seed1,val/loss,400,1.98\n"
            "pn-seed0,train/loss,1,3\npn-seed0,train/loss,2,2\npn-seed0,train/loss,3,4\n"
            "pn-seed0,val/loss,100,4\npn-seed0,val/loss,200,3\npn-seed0,val/loss,300,2.5\npn-seed0,val/loss,400,2\n");
}

TEST_F(Export, MetricsJsonReadsBackExactly) {
  const auto j = nlohmann::json::parse(run({"hc-seed2"}, "metrics", "json"));
  ASSERT_EQ(j.size(), 7u);
  EXPECT_EQ(j[3]["name"], "val/loss");
  EXPECT_EQ(j[3]["step"], 100);
  EXPECT_EQ(j[3]["value"].get<double>(), 4.0 + -0.18);  // bit for bit
  EXPECT_EQ(j[6]["value"].get<double>(), 2.0 + -0.18);
  EXPECT_EQ(exact_number(0.1), "0.1");
  EXPECT_EQ(std::stod(exact_number(1.0 / 3)), 1.0 / 3);
}

TEST_F(Export, RunsAndEvals) {
  const auto runs = nlohmann::json::parse(run({"pn-seed1", "hc-seed0"}, "runs", "json"));
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0]["id"], "pn-seed1");  // order of the selection
  EXPECT_EQ(runs[0]["param.residual.kind"], "pre_norm");
  EXPECT_EQ(runs[0]["tokens_per_s"], 1100.0);
  EXPECT_EQ(runs[0]["summary.spikes/train/loss/count"], 0.0);
  EXPECT_TRUE(runs[0]["summary.spikes/train/grad_norm/count"].is_null());  // only hc runs have it
  EXPECT_EQ(runs[1]["params"], 1100);

  const std::string evals = run({"hc-seed0"}, "evals", "csv");
  EXPECT_EQ(evals,
            "run_id,step,task,metric,value\n"
            "hc-seed0,200,piqa,acc,0.5\nhc-seed0,400,hellaswag,acc_norm,0.3\n"
            "hc-seed0,400,piqa,acc,0.65\nhc-seed0,400,piqa,n,100\n");
  EXPECT_THROW(run({"hc-seed0"}, "curves", "csv"), Error);
  EXPECT_THROW(run({"hc-seed0"}, "metrics", "md"), Error);
  EXPECT_EQ(run({}, "metrics", "csv"), "run_id,name,step,value\n");
}

}  // namespace
}  // namespace hcx::report
