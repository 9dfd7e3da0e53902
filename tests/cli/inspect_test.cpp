// End to end: `hcx inspect` prints the analytic stats of a config (table or
// JSON), applies -s overrides, and rejects a bad config with exit code 2.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "cli/cli_util.h"
#include <nlohmann/json.hpp>

namespace {

using Result = hcx::test::Output;
Result run(const std::string& args, bool merge_stderr = false) { return hcx::test::run_hcx_output(args, merge_stderr); }

std::string write_config(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

// Parameters of the default model ({}): d 64, L 2, V 256, swiglu hidden 176,
// LayerNorm (no parameters), tied: V d + L (4 d^2 + 3 h d).
constexpr int64_t kD = 64, kL = 2, kV = 256, kH = 176;
constexpr int64_t kBaseParams = kV * kD + kL * (4 * kD * kD + 3 * kH * kD);

TEST(CliInspect, JsonCountsMatchThePaperFormulas) {
  const std::string cfg = write_config("inspect_hc.json", R"({"residual": {"kind": "hc", "n": 4}})");
  const Result dyn = run("inspect " + cfg + " --format json");
  ASSERT_EQ(dyn.exit_code, 0) << dyn.out;
  const auto j = nlohmann::json::parse(dyn.out);
  const int64_t n = 4, sublayers = 2 * kL;
  const int64_t dhc = kD * (n + 2) + n * (n + 2) + 2;  // docs/method.md, per sublayer
  EXPECT_EQ(j["hc"]["params_per_sublayer"].get<int64_t>(), dhc);
  EXPECT_EQ(j["hc"]["params"].get<int64_t>(), sublayers * dhc);
  EXPECT_EQ(j["params"]["total"].get<int64_t>(), kBaseParams + sublayers * dhc);
  EXPECT_EQ(j["params"]["hc_static"].get<int64_t>(), sublayers * n * (n + 2));

  // -s overrides the file: static HC, n(n+2) per sublayer.
  const Result shc = run("inspect " + cfg + " -s residual.dynamic=false -s residual.n=2 --format json");
  ASSERT_EQ(shc.exit_code, 0) << shc.out;
  const auto s = nlohmann::json::parse(shc.out);
  EXPECT_EQ(s["hc"]["params_per_sublayer"].get<int64_t>(), 2 * 4);
  EXPECT_EQ(s["params"]["total"].get<int64_t>(), kBaseParams + sublayers * 8);
  EXPECT_EQ(s["residual"]["n"].get<int64_t>(), 2);
}

TEST(CliInspect, TableWithoutAConfigFile) {
  const Result r = run("inspect -s model.d_model=512 -s model.n_layers=12 -s model.n_heads=8");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("d_model 512, 12 layers, 8 heads"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("37,928,960"), std::string::npos) << r.out;  // 256*512 + 12 (4*512^2 + 3*1368*512)
  EXPECT_EQ(r.out.find("residual-variant overhead"), std::string::npos) << r.out;
}

TEST(CliInspect, BadConfigExitsTwoNamingTheKey) {
  const std::string cfg = write_config("inspect_bad.json", R"({"model": {"d_model": 30, "n_heads": 4}})");
  const Result r = run("inspect " + cfg, /*merge_stderr=*/true);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("model.d_model"), std::string::npos) << r.out;
  const Result o = run("inspect -s residual.n=0", true);
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.out.find("residual.n"), std::string::npos) << o.out;
  const Result u = run("inspect -s residual.kind=highway", true);
  EXPECT_EQ(u.exit_code, 2);
  EXPECT_NE(u.out.find("residual.kind"), std::string::npos) << u.out;
  EXPECT_EQ(run("inspect --format yaml").exit_code, 2);
}

}  // namespace
