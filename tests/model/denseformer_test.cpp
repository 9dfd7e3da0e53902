// DenseFormer's depth-weighted average (gpt.h, BlockImpl::average): the
// sources of every DWA for dilation and period, Pre-Norm bit for bit at init,
// hand-set weights against the blocks replayed by hand, and the paper's
// parameter count.
#include <gtest/gtest.h>

#include "hcx/model/gpt.h"
#include "hcx/model/inspect.h"
#include "hcx/model/param_specs.h"
#include "model/tiny.h"

namespace hcx::model {
namespace {

using testing::max_abs_diff;
using testing::tiny;

config::RunConfig denseformer(int64_t layers, int64_t dilation = 1, int64_t period = 1) {
  auto c = tiny("denseformer");
  c.model.n_layers = layers;
  c.residual.dwa_dilation = dilation;
  c.residual.dwa_period = period;
  return c;
}

TEST(DenseFormer, SourcesFollowDilationAndPeriod) {
  using V = std::vector<int64_t>;
  EXPECT_EQ(dwa_sources(denseformer(4), 0), (V{0, 1}));
  EXPECT_EQ(dwa_sources(denseformer(4), 3), (V{0, 1, 2, 3, 4}));
  // 2x3: DWA after blocks 3 and 6 (1-based), over j = i (mod 2).
  const auto c = denseformer(6, 2, 3);
  EXPECT_EQ(dwa_sources(c, 0), V{});
  EXPECT_EQ(dwa_sources(c, 2), (V{1, 3}));
  EXPECT_EQ(dwa_sources(c, 5), (V{0, 2, 4, 6}));
  EXPECT_EQ(dwa_sources(tiny("pre_norm"), 0), V{});
}

TEST(DenseFormer, AtInitTheModelIsPreNormBitForBit) {
  const torch::Tensor idx = testing::tokens(2, 8);
  const int64_t shapes[][2] = {{1, 1}, {2, 1}, {1, 2}, {2, 3}, {4, 5}};
  for (int64_t layers : {2, 5}) {
    auto pre = tiny("pre_norm");
    pre.model.n_layers = layers;
    const torch::Tensor want = Gpt(pre)->forward(idx);
    for (const auto& kp : shapes) {
      EXPECT_TRUE(torch::equal(Gpt(denseformer(layers, kp[0], kp[1]))->forward(idx), want))
          << layers << " layers " << kp[0] << "x" << kp[1];
    }
  }
}

TEST(DenseFormer, AveragesTheBlockOutputsWithTheLearnedWeights) {
  // Hand-set weights: the model equals its blocks replayed by hand, Y_{i+1} = sum_s w_s X_{j_s}.
  const auto c = denseformer(4, 2, 1);
  Gpt m(c);
  testing::perturb(*m, 0.1);
  const torch::Tensor idx = testing::tokens(2, 8);
  std::vector<torch::Tensor> X{m->wte(idx)};
  torch::Tensor y = X[0];
  for (int64_t i = 0; i < 4; ++i) {
    auto* b = (*m->h)[size_t(i)]->as<BlockImpl>();
    X.push_back(b->forward(y));
    const auto sources = dwa_sources(c, i);
    ASSERT_EQ(b->dwa_weights.numel(), int64_t(sources.size()));
    y = torch::zeros_like(X.back());
    for (size_t s = 0; s < sources.size(); ++s) y = y + b->dwa_weights[int64_t(s)] * X[size_t(sources[s])];
  }
  const torch::Tensor want = at::linear(m->ln_f(y), m->wte->weight);
  EXPECT_LT(max_abs_diff(m->forward(idx), want), 1e-6);
}

TEST(DenseFormer, ParameterCountIsTheDepthTriangleAndNothingDecays) {
  // 1x1: block i (1-based) averages i+1 outputs: L(L+3)/2 weights, 1,224 at 48 blocks (the paper's).
  auto c = denseformer(48);
  c.model.d_model = 64;
  EXPECT_EQ(compute_stats(c).hc_params, 1224);
  EXPECT_EQ(mixer_params(c), 0);
  for (const auto& p : param_specs(denseformer(3, 2, 1))) {
    if (is_hc_param(p.name)) {
      EXPECT_FALSE(p.decays) << p.name;
    }
  }
}

}  // namespace
}  // namespace hcx::model
