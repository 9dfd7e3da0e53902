// hcx inspect's analytics: parameter counts equal the real module's for many
// configs; FLOPs and HC overhead equal hand-computed values.
#include "hcx/model/inspect.h"

#include <gtest/gtest.h>

#include "hcx/model/gpt.h"
#include "model/tiny.h"

namespace hcx::model {
namespace {

using testing::tiny;

std::vector<config::RunConfig> many_configs() {
  std::vector<config::RunConfig> out;
  for (const char* kind : {"pre_norm", "post_norm", "hc", "mhc"}) {
    for (int64_t n : {1, 2, 4, 8}) {
      for (bool dynamic : {false, true}) {
        for (const char* norm : {"layernorm", "rmsnorm"}) {
          auto c = tiny(kind, n, dynamic);
          c.model.norm = norm;
          c.model.ffn = n % 2 == 0 ? "swiglu" : "gelu";
          c.model.tie_embeddings = !dynamic;
          c.residual.freeze_width = n == 4;
          c.residual.freeze_beta = n == 8;
          if (std::string(kind) == "pre_norm" || std::string(kind) == "post_norm") {
            if (n > 1 || dynamic) continue;  // n and dynamic do not apply
            for (bool tie : {false, true}) {
              for (const char* ffn : {"swiglu", "gelu"}) {
                c.model.tie_embeddings = tie;
                c.model.ffn = ffn;
                out.push_back(c);
              }
            }
          } else {
            out.push_back(c);
          }
        }
      }
    }
  }
  auto wide = tiny("hc", 4, true);
  wide.model.d_model = 48;
  wide.model.n_heads = 3;
  wide.model.n_layers = 3;
  out.push_back(wide);
  for (const char* kind : {"pre_norm", "hc", "laurel"}) {  // the MoE FFN: router and stacked experts
    auto c = tiny(kind, 2, true);
    c.model.ffn = "moe";
    c.model.moe_experts = 5;
    c.model.moe_top_k = 2;
    c.model.moe_hidden = std::string(kind) == "hc" ? 12 : 0;
    out.push_back(c);
  }
  return out;
}

TEST(Inspect, CountsEqualTheRealModule) {
  const auto configs = many_configs();
  EXPECT_GT(configs.size(), 40u);
  for (const auto& c : configs) {
    const ModelStats s = compute_stats(c);
    Gpt m(c);
    int64_t total = 0, trainable = 0, hc = 0;
    std::array<int64_t, kNumParamGroups> by_group{};
    for (const auto& p : named_params(*m)) {
      total += p.tensor.numel();
      if (p.trainable) trainable += p.tensor.numel();
      if (is_hc_param(p.name)) hc += p.tensor.numel();
      by_group[static_cast<int>(p.group)] += p.tensor.numel();
    }
    const std::string what = c.residual.kind + " n=" + std::to_string(c.residual.n) + " " + c.model.norm;
    EXPECT_EQ(s.params_total, total) << what;
    EXPECT_EQ(s.params_trainable, trainable) << what;
    EXPECT_EQ(s.hc_params, hc) << what;
    EXPECT_EQ(s.params_by_group, by_group) << what;
    EXPECT_EQ(s.hc_params, 2 * c.model.n_layers * s.hc_params_per_sublayer) << what;
  }
}

TEST(Inspect, HcParameterFormulasOfThePaper) {
  auto c = tiny("hc", 4, false);
  c.model.d_model = 512;
  c.model.n_heads = 8;
  c.model.n_layers = 12;
  const int64_t n = 4, d = 512, sublayers = 24;
  EXPECT_EQ(compute_stats(c).hc_params, sublayers * n * (n + 2));
  EXPECT_EQ(compute_stats(c).params_by_group[static_cast<int>(ParamGroup::kHcStatic)], sublayers * n * (n + 2));
  c.residual.dynamic = true;
  const ModelStats s = compute_stats(c);
  EXPECT_EQ(s.hc_params_per_sublayer, d * (n + 2) + n * (n + 2) + 2);
  EXPECT_EQ(s.params_by_group[static_cast<int>(ParamGroup::kHcDynamic)], sublayers * d * (n + 2));
  EXPECT_EQ(s.params_by_group[static_cast<int>(ParamGroup::kHcScale)], sublayers * 2);
  c.model.norm = "rmsnorm";
  EXPECT_EQ(compute_stats(c).hc_params_per_sublayer, d * (n + 2) + n * (n + 2) + 2 + d);
}

TEST(Inspect, FlopsByHand) {
  // d 64, L 2, T 64, V 256, swiglu h 176: L (8d^2 + 4Td + 6dh) + 2dV.
  config::RunConfig c;
  const double base = 2 * (8.0 * 64 * 64 + 4.0 * 64 * 64 + 6.0 * 64 * 176) + 2.0 * 64 * 256;
  EXPECT_DOUBLE_EQ(compute_stats(c).flops_per_token, base);
  EXPECT_DOUBLE_EQ(compute_stats(c).hc_flops_per_token, 0.0);
  c.residual.kind = "hc";
  c.residual.dynamic = false;  // n = 4: 2nd(n+2) per mixer, 4 mixers
  EXPECT_DOUBLE_EQ(compute_stats(c).hc_flops_per_token, 4 * 2.0 * 4 * 64 * 6);
  EXPECT_DOUBLE_EQ(compute_stats(c).flops_per_token, base + 4 * 2.0 * 4 * 64 * 6);
  EXPECT_NEAR(compute_stats(c).hc_flops_pct, 100.0 * 12288 / base, 1e-9);
  c.residual.dynamic = true;
  EXPECT_DOUBLE_EQ(compute_stats(c).hc_flops_per_token, 4 * 4.0 * 4 * 64 * 6);
  c.residual.kind = "mhc";
  EXPECT_DOUBLE_EQ(compute_stats(c).hc_flops_per_token, 4 * 2.0 * 4 * 64 * 6 * 5);
  c.model.ffn = "gelu";
  c.residual.kind = "pre_norm";
  EXPECT_DOUBLE_EQ(compute_stats(c).flops_per_token,
                   2 * (8.0 * 64 * 64 + 4.0 * 64 * 64 + 16.0 * 64 * 64) + 2.0 * 64 * 256);
}

TEST(Inspect, MoeCountsTotalAndActiveParametersAndFlops) {
  // d 64, L 2, E 8, k 2, h_e = ceil(176 / 2) = 88: per layer E (3 d h_e) + d E,
  // active (k of E experts) k (3 d h_e) + d E; FLOPs 2dE + 6 k d h_e per layer.
  config::RunConfig c;
  c.model.ffn = "moe";
  const ModelStats dense = compute_stats(config::RunConfig{});
  const ModelStats s = compute_stats(c);
  const int64_t d = 64, E = 8, k = 2, he = 88, ffn_dense = 3 * d * 176;
  EXPECT_EQ(s.params_total, dense.params_total + 2 * (E * 3 * d * he + d * E - ffn_dense));
  EXPECT_EQ(s.params_active, dense.params_total + 2 * (k * 3 * d * he + d * E - ffn_dense));
  EXPECT_EQ(dense.params_active, dense.params_total);
  EXPECT_DOUBLE_EQ(s.flops_per_token, dense.flops_per_token + 2 * (2.0 * d * E + 6.0 * k * d * he - 6.0 * d * 176));
  const std::string table = stats_table(c, s);
  EXPECT_NE(
      table.find("moe FFN: 8 swiglu experts (hidden 88), top-2, dropless; aux lb 0.01 (megablocks), z 0.001 (mean)"),
      std::string::npos)
      << table;
  EXPECT_NE(table.find("active per token"), std::string::npos) << table;
  EXPECT_EQ(stats_json(c, s)["params"]["active"], s.params_active);
}

TEST(Inspect, ActivationEstimateGrowsWithStreams) {
  auto c = tiny("hc", 1, false);
  double last = compute_stats(tiny("pre_norm")).activation_bytes_per_token;
  EXPECT_GT(last, 0);
  for (int64_t n : {1, 2, 4, 8}) {
    c.residual.n = n;
    const ModelStats s = compute_stats(c);
    EXPECT_GT(s.activation_bytes_per_token, last) << n;
    last = s.activation_bytes_per_token;
  }
  auto bf = tiny("pre_norm");
  bf.train.dtype = "bfloat16";
  EXPECT_DOUBLE_EQ(compute_stats(bf).activation_bytes_per_token,
                   compute_stats(tiny("pre_norm")).activation_bytes_per_token / 2);
}

TEST(Inspect, TableAndJson) {
  auto c = tiny("hc", 4, true);
  const ModelStats s = compute_stats(c);
  const std::string table = stats_table(c, s);
  EXPECT_NE(table.find("hc dynamic, n=4, tanh, reduce sum"), std::string::npos) << table;
  EXPECT_NE(table.find("residual-variant overhead"), std::string::npos) << table;
  EXPECT_NE(table.find("hc_dynamic"), std::string::npos) << table;
  const config::Json j = stats_json(c, s);
  EXPECT_EQ(j["params"]["total"].get<int64_t>(), s.params_total);
  EXPECT_EQ(j["params"]["hc_static"].get<int64_t>(), 4 * 4 * 6);
  EXPECT_EQ(j["hc"]["params_per_sublayer"].get<int64_t>(), 16 * 6 + 4 * 6 + 2);
  EXPECT_EQ(j["residual"]["kind"], "hc");
  const std::string pre = stats_table(tiny("pre_norm"), compute_stats(tiny("pre_norm")));
  EXPECT_EQ(pre.find("hyper-connection"), std::string::npos) << pre;
  EXPECT_EQ(pre.find("hc_static"), std::string::npos) << pre;
}

}  // namespace
}  // namespace hcx::model
