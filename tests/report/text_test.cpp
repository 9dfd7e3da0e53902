// Terminal, Markdown and CSV renderings of the known sweep, figure by figure.
#include "hcx/report/text.h"

#include <sstream>

#include <gtest/gtest.h>

#include "report/fixture.h"

namespace hcx::report {
namespace {

Report known() { return compute_report(fixture::known_input(), ReportOptions{}); }

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

TEST(RenderTerminal, KnownSweepTable) {
  std::ostringstream out;
  render_terminal(known(), out, /*color=*/false);
  EXPECT_EQ(out.str(), fixture::known_table());
  EXPECT_EQ(out.str().find('\033'), std::string::npos);
}

TEST(RenderTerminal, ColoursSayBetterWorseAndNoise) {
  std::ostringstream out;
  render_terminal(known(), out, /*color=*/true);
  const std::string s = out.str();
  EXPECT_NE(s.find("\033[32m\u22120.1000 [\u22120.1497, \u22120.0503]\033[0m"), std::string::npos);  // better: green
  EXPECT_NE(s.find("\033[32m1.43\u00d7\033[0m"), std::string::npos);
  EXPECT_NE(s.find("\033[2mbaseline\033[0m"), std::string::npos);

  // A worse group (red) and a difference that may be noise (dim, n.s.).
  ReportInput in = fixture::known_input();
  for (int i = 3; i < 6; ++i) {
    for (double& v : in.runs[i].curves["val/loss"].values) v += 0.3;
  }
  std::ostringstream worse;
  render_terminal(compute_report(in, ReportOptions{}), worse, true);
  EXPECT_NE(worse.str().find("\033[31m+0.2000 [+0.1503, +0.2497]\033[0m"), std::string::npos) << worse.str();
  in = fixture::known_input();
  in.runs[4].curves["val/loss"].values.back() += 0.3;  // hc seed 1: pair differences {-.1, +.18, -.08}
  std::ostringstream noise;
  render_terminal(compute_report(in, ReportOptions{}), noise, true);
  EXPECT_NE(noise.str().find("\033[2m0.0000 [\u22120.3880, +0.3880] n.s.\033[0m"), std::string::npos)
      << noise.str();
}

TEST(RenderTerminal, MissingSeedsAreListed) {
  ReportInput in = fixture::known_input();
  in.runs[5].status = RunStatus::kDiverged;
  std::ostringstream out;
  render_terminal(compute_report(in, ReportOptions{}), out, false);
  const auto l = lines(out.str());
  EXPECT_EQ(l[5].substr(0, 16), "DHC×2       2/3");
  EXPECT_EQ(l.back(), "missing in DHC×2: seed 2 (diverged, run hc-seed2)");
}

TEST(RenderMarkdown, KnownSweep) {
  std::ostringstream out;
  render_markdown(known(), out);
  const auto l = lines(out.str());
  ASSERT_GE(l.size(), 12u);
  EXPECT_EQ(l[0], "# hcx report");
  EXPECT_EQ(l[4], "## Comparison");
  EXPECT_EQ(l[6],
            "| group | seeds | val/loss final | val/loss best | \u0394 vs baseline [95% CI] | MDE | seeds for \u0394 | speed-up | "
            "train loss final "
            "| train loss best | loss spikes | gnorm spikes | tok/s | params |");
  EXPECT_EQ(l[7], "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  EXPECT_EQ(l[8],
            "| **Pre-Norm** | 3/3 | 2.0000 \u00b1 0.1000 | 2.0000 \u00b1 0.1000 | baseline | \u2014 | \u2014 | 1.00\u00d7 | "
            "3.0025 \u00b1 0.0000 | 2.9500 \u00b1 0.0000 | 1.0 \u00b1 1.0 | 0.3 \u00b1 0.6 | 1.10k | 1.00k |");
  EXPECT_EQ(l[9],
            "| DHC×2 | 3/3 | 1.9000 \u00b1 0.0800 | 1.9000 \u00b1 0.0800 | \u22120.1000 [\u22120.1497, \u22120.0503] | "
            "0.0619 | 3 | 1.43\u00d7 | 2.9050 \u00b1 0.0000 | 2.9000 \u00b1 0.0000 | 0.0 \u00b1 0.0 | 0.0 \u00b1 0.0 | 800 | 1.10k |");
  EXPECT_EQ(l[16], "| DHC×2 | 0.320 \u00b1 0.020 | 0.660 \u00b1 0.010 |");
}

TEST(RenderCsv, OneRowPerGroupWithRawNumbers) {
  std::ostringstream out;
  render_csv(known(), out);
  const auto l = lines(out.str());
  ASSERT_EQ(l.size(), 3u);
  const auto head = split_csv_line(l[0]);
  const auto hc = split_csv_line(l[2]);
  ASSERT_EQ(head.size(), hc.size());
  std::map<std::string, std::string> row;
  for (size_t i = 0; i < head.size(); ++i) row[head[i]] = hc[i];
  EXPECT_EQ(row["group"], "DHC×2");
  EXPECT_EQ(row["baseline_group"], "Pre-Norm");
  EXPECT_EQ(row["residual.kind"], "hc");
  EXPECT_EQ(row["seeds"], "3");
  EXPECT_EQ(row["missing"], "");
  EXPECT_NEAR(std::stod(row["metric_final_mean"]), 1.9, 1e-9);
  EXPECT_NEAR(std::stod(row["metric_final_std"]), 0.08, 1e-9);
  EXPECT_NEAR(std::stod(row["delta_mean"]), -0.1, 1e-9);
  EXPECT_NEAR(std::stod(row["delta_ci_low"]), -0.1496827, 1e-6);
  EXPECT_NEAR(std::stod(row["delta_ci_high"]), -0.0503173, 1e-6);
  EXPECT_EQ(row["delta_contains_zero"], "false");
  EXPECT_NEAR(std::stod(row["delta_mde"]), 0.0619302029489, 1e-9);  // as in the JSON (json_test.cpp)
  EXPECT_EQ(row["delta_seeds_needed"], "3");
  EXPECT_EQ(row["collapsed"], "");
  EXPECT_EQ(head.end(), std::find_if(head.begin(), head.end(), [](const std::string& h) { return h.rfind("best_", 0) == 0; }));
  EXPECT_NEAR(std::stod(row["speedup"]), 10.0 / 7.0, 1e-9);
  EXPECT_EQ(row["speedup_tokens"], "4480");
  EXPECT_NEAR(std::stod(row["train_final_mean"]), 2.905, 1e-9);
  EXPECT_NEAR(std::stod(row["piqa/acc_mean"]), 0.66, 1e-9);
  EXPECT_NEAR(std::stod(row["hellaswag/acc_norm_std"]), 0.02, 1e-9);
  EXPECT_EQ(row["tokens_per_s_mean"], "800");
  const auto base = split_csv_line(l[1]);
  ASSERT_EQ(head.size(), base.size());
  for (size_t i = 0; i < head.size(); ++i) {
    if (head[i].rfind("delta_", 0) == 0) {  // the baseline has no Δ
      EXPECT_EQ(base[i], "") << head[i];
    }
  }
}

}  // namespace
}  // namespace hcx::report
