// Diagnostics through a real model: collapse is exactly 1 where consecutive
// sublayer inputs are identical by construction, the unfolded connections of
// an HC model at init are the Pre-Norm pattern, and gradient norms are
// attributed to the right sublayer.
#include "hcx/train/diagnostics.h"

#include <gtest/gtest.h>
#include <torch/types.h>
#include <torch/utils.h>

#include "common/tiny_config.h"

namespace hcx::train {
namespace {

using metrics::MemorySink;

// tiny_config with 3 layers, seq_len 8, vocab 32 and the residual stream given.
config::RunConfig tiny(const char* kind, int64_t n = 1) {
  config::RunConfig c = hcx::test::tiny_config(3, 8, 32);
  c.residual.kind = kind;
  c.residual.n = n;
  return c;
}

at::Tensor probe() { return torch::randint(0, 32, {2, 8}, torch::TensorOptions().dtype(torch::kLong)); }

TEST(Diagnostics, SublayersThatAddNothingGiveCollapseOne) {
  // Pre-Norm with every output projection zero: each sublayer adds 0, so the
  // stream, hence every sublayer's input, is the same tensor all the way up.
  model::Gpt m = model::make_model(tiny("pre_norm"));
  {
    torch::NoGradGuard no_grad;
    for (auto& p : m->named_parameters())
      if (p.key().find("c_proj") != std::string::npos) p.value().zero_();
  }
  MemorySink sink;
  record_probe_diagnostics(*m, probe(), at::Device(at::kCPU), 7, sink);
  for (int64_t k = 0; k < 5; ++k) {
    for (const char* name : {"cos/median", "cos/p5", "cos/p95"}) {
      ASSERT_EQ(sink.layer_stats.count({7, k, name}), 1u) << k << name;
      EXPECT_NEAR(sink.layer_stats.at({7, k, name}), 1.0, 1e-12) << k << name;
    }
  }
  EXPECT_EQ(sink.layer_stats.count({7, 5, "cos/median"}), 0u);  // 6 sublayers, 5 pairs
  EXPECT_TRUE(sink.matrices.empty());                             // no HC matrices for pre_norm
}

TEST(Diagnostics, UnfoldedConnectionsOfHcAtInitAreThePreNormPattern) {
  for (int64_t n : {1, 2, 4}) {
    for (bool dynamic : {false, true}) {
      config::RunConfig c = tiny("hc", n);
      c.residual.dynamic = dynamic;
      c.residual.reduce = "mean";
      model::Gpt m = model::make_model(c);
      MemorySink sink;
      record_probe_diagnostics(*m, probe(), at::Device(at::kCPU), 0, sink);
      const MatrixRow* unfolded = nullptr;
      int hc = 0;
      for (const auto& r : sink.matrices) {
        if (r.name == "unfolded") unfolded = &r;
        hc += r.name == "hc";
      }
      EXPECT_EQ(hc, 6);
      ASSERT_NE(unfolded, nullptr);
      ASSERT_EQ(unfolded->rows, 7);  // 6 sublayer inputs + the output; columns: embedding + 6 outputs
      for (int64_t k = 0; k < 7; ++k)
        for (int64_t j = 0; j < 7; ++j)
          EXPECT_NEAR(unfolded->values[static_cast<size_t>(k * 7 + j)], j <= k ? 1.0 : 0.0, 1e-6)
              << "n=" << n << " dynamic=" << dynamic << " k=" << k << " j=" << j;
      EXPECT_NEAR(sink.scalars["hc/gain_row"][0], 1.0, 1e-6);  // A_r = I everywhere
    }
  }
}

TEST(Diagnostics, FracDenseFormerAndLaurelRecordTheirConnectionsAtInit) {
  // At init: FC [[0, 1], [I, I]] per sublayer; the DWA weights e_{i+1} (identity over depth); LAuReL's gains 1.
  auto fc = tiny("frac", 2);
  MemorySink sink;
  record_probe_diagnostics(*model::make_model(fc), probe(), at::Device(at::kCPU), 0, sink);
  ASSERT_EQ(sink.matrices.size(), 6u);
  for (const auto& r : sink.matrices) {
    EXPECT_EQ(r.name, "frac");
    ASSERT_EQ(r.rows, 3);
    ASSERT_EQ(r.cols, 4);
    EXPECT_EQ(r.values, (std::vector<double>{0, 0, 1, 1, 1, 0, 1, 0, 0, 1, 0, 1})) << "sublayer " << r.layer;
  }
  auto dense = tiny("denseformer");
  dense.residual.dwa_period = 2;  // a DWA after block 2 only; blocks 1 and 3 pass their output on
  MemorySink dsink;
  record_probe_diagnostics(*model::make_model(dense), probe(), at::Device(at::kCPU), 0, dsink);
  ASSERT_EQ(dsink.matrices.size(), 1u);
  EXPECT_EQ(dsink.matrices[0].name, "dwa");
  EXPECT_EQ(dsink.matrices[0].layer, -1);
  EXPECT_EQ(dsink.matrices[0].values, (std::vector<double>{0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}));
  MemorySink lsink;
  record_probe_diagnostics(*model::make_model(tiny("laurel")), probe(), at::Device(at::kCPU), 0, lsink);
  ASSERT_EQ(lsink.matrices.size(), 1u);
  EXPECT_EQ(lsink.matrices[0].name, "laurel");
  EXPECT_EQ(lsink.matrices[0].rows, 2);
  EXPECT_EQ(lsink.matrices[0].values, std::vector<double>(12, 1.0));
}

TEST(Diagnostics, GradNormsGoToTheirSublayer) {
  EXPECT_EQ(sublayer_of("h.0.attn.c_attn.weight"), 0);
  EXPECT_EQ(sublayer_of("h.0.ln_1.weight"), 0);
  EXPECT_EQ(sublayer_of("h.0.hc_attn.static_alpha"), 0);
  EXPECT_EQ(sublayer_of("h.2.mlp.c_fc.weight"), 5);
  EXPECT_EQ(sublayer_of("h.2.hc_ffn.dynamic_beta_fn"), 5);
  EXPECT_EQ(sublayer_of("h.1.dwa_weights"), 3);  // the DWA follows the FFN
  EXPECT_EQ(sublayer_of("h.11.ln_2.weight"), 23);
  EXPECT_EQ(sublayer_of("wte.weight"), -1);
  EXPECT_EQ(sublayer_of("ln_f.weight"), -1);

  model::Gpt m = model::make_model(tiny("pre_norm"));
  const at::Tensor x = probe();
  m->loss(x, x).backward();
  MemorySink sink;
  record_grad_norms(*m, 3, sink);
  for (int64_t k = 0; k < 6; ++k) {
    ASSERT_EQ(sink.layer_stats.count({3, k, "grad_norm"}), 1u);
    EXPECT_GT(sink.layer_stats.at({3, k, "grad_norm"}), 0.0);
  }
  // the attention of block 1 is sublayer 2: its norm is that of its parameters' gradients
  double sq = 0;
  for (const auto& p : m->named_parameters())
    if (sublayer_of(p.key()) == 2) sq += p.value().grad().pow(2).sum().item<double>();
  EXPECT_NEAR(sink.layer_stats.at({3, 2, "grad_norm"}), std::sqrt(sq), 1e-6);
}

}  // namespace
}  // namespace hcx::train
