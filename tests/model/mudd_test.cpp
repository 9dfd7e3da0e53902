// MUDDFormer (mudd.h): the Pre-Norm function at init, the aggregation and its
// gradients against the formula in double precision, the Q/K/V/R wiring of
// the next block, the parameter count and the init's gradients.
#include "hcx/model/mudd.h"

#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

#include "hcx/model/gpt.h"
#include "hcx/model/inspect.h"
#include "hcx/model/param_specs.h"
#include "model/tiny.h"

namespace hcx::model {
namespace {

using testing::max_abs_diff;
using testing::tiny;

config::RunConfig mudd(int64_t layers = 2) {
  auto c = tiny("mudd");
  c.model.n_layers = layers;
  return c;
}

TEST(Mudd, AtInitTheModelIsPreNorm) {
  // Every stream is the block's own output; only attention's three q/k/v GEMMs
  // (against Pre-Norm's one) may round differently.
  const torch::Tensor idx = testing::tokens(2, 8);
  for (const char* norm : {"layernorm", "rmsnorm"}) {
    for (int64_t layers : {1, 2, 3}) {
      auto pre = tiny("pre_norm"), c = mudd(layers);
      pre.model.n_layers = layers;
      pre.model.norm = c.model.norm = norm;
      EXPECT_LT(max_abs_diff(Gpt(c)->forward(idx), Gpt(pre)->forward(idx)), 1e-6) << norm << " " << layers;
    }
  }
}

TEST(Mudd, AggregationAndGradientsEqualTheFormula) {
  // dw = GELU(RMSNorm(X_last) W1) W2 + a; Xbar^c = sum_j dw[c][j] X_j.
  const auto c = mudd(3);
  at::Generator gen = at::detail::createCPUGenerator(9);
  for (int64_t i = 0; i < 3; ++i) {
    MuddImpl da(c, i);
    da.to(at::kDouble);
    {
      const at::NoGradGuard no_grad;
      for (auto& p : da.parameters()) p.add_(at::normal(0.0, 0.3, p.sizes(), gen).to(at::kDouble));
    }
    std::vector<torch::Tensor> X;
    for (int64_t j = 0; j < i + 2; ++j)
      X.push_back(at::normal(0.0, 1.0, {2, 3, 16}, gen).to(at::kDouble).requires_grad_(true));
    const torch::Tensor& x = X.back();
    const torch::Tensor xn = x / at::sqrt(x.pow(2).mean(-1, true) + c.model.norm_eps);
    const torch::Tensor dw = at::matmul(at::gelu(at::matmul(xn, da.w1)), da.w2).reshape({2, 3, da.ways, da.sources}) + da.a;
    const auto got = da.forward(X);
    ASSERT_EQ(int64_t(got.size()), i == 2 ? 1 : 4);
    std::vector<torch::Tensor> inputs(X);
    for (const auto& p : da.parameters()) inputs.push_back(p);
    for (int64_t w = 0; w < da.ways; ++w) {
      torch::Tensor want = torch::zeros_like(x);
      for (int64_t j = 0; j < da.sources; ++j) want = want + dw.select(-2, w).select(-1, j).unsqueeze(-1) * X[size_t(j)];
      EXPECT_LT(max_abs_diff(got[size_t(w)], want), 1e-12) << "block " << i << " way " << w;
      const torch::Tensor g = at::normal(0.0, 1.0, {2, 3, 16}, gen).to(at::kDouble);
      const auto dg = torch::autograd::grad({got[size_t(w)]}, inputs, {g}, /*retain_graph=*/true);
      const auto dr = torch::autograd::grad({want}, inputs, {g}, /*retain_graph=*/true);
      for (size_t k = 0; k < inputs.size(); ++k)
        EXPECT_LT(max_abs_diff(dg[k], dr[k]), 1e-11) << "block " << i << " way " << w << " input " << k;
    }
  }
}

TEST(Mudd, TheNextBlockReadsQueryKeyValueAndResidualFromTheirStreams) {
  // The model with random DA weights equals its blocks replayed by hand:
  // X_A = attn(ln_1(Q), ln_1k(K), ln_1v(V)) + R, X' = X_A + mlp(ln_2(X_A)).
  auto c = mudd(3);
  c.model.norm = "rmsnorm";
  Gpt m(c);
  testing::perturb(*m, 0.1);
  const torch::Tensor idx = testing::tokens(2, 8);
  std::vector<torch::Tensor> X{m->wte(idx)}, s(4, X[0]);
  for (int64_t i = 0; i < 3; ++i) {
    auto* b = (*m->h)[size_t(i)]->as<BlockImpl>();
    const torch::Tensor xa = b->attn->forward_qkv(b->ln_1(s[0]), b->ln_1k(s[1]), b->ln_1v(s[2])) + s[3];
    X.push_back(xa + b->mlp(b->ln_2(xa)));
    s = b->mudd->forward(X);
  }
  ASSERT_EQ(s.size(), 1u);
  EXPECT_LT(max_abs_diff(m->forward(idx), at::linear(m->ln_f(s[0]), m->wte->weight)), 1e-6);
  // Swapping the key and value streams changes the result: the order is not symmetric.
  auto* b1 = (*m->h)[1]->as<BlockImpl>();
  const torch::Tensor q = torch::randn({2, 8, 16}), k = torch::randn({2, 8, 16}), v = torch::randn({2, 8, 16});
  EXPECT_GT(max_abs_diff(b1->attn->forward_qkv(q, k, v), b1->attn->forward_qkv(q, v, k)), 1e-4);
}

TEST(Mudd, ParameterCountIsThePapersFormula) {
  // Per DA: d K + K C S + C S, K = C S (4 S after the last block); rmsnorm adds ln_1k, ln_1v (2d) per block.
  // d 16, 2 blocks: (16·8 + 8·8 + 8) + (16·12 + 12·3 + 3) = 200 + 231.
  EXPECT_EQ(compute_stats(mudd(2)).hc_params, 431);
  auto rms = mudd(2);
  rms.model.norm = "rmsnorm";
  // rmsnorm gains: ln_1, ln_2, ln_1k, ln_1v per block and ln_f; the DA weights are the same.
  EXPECT_EQ(compute_stats(rms).params_total - compute_stats(mudd(2)).params_total, 2 * 4 * 16 + 16);
  EXPECT_EQ(compute_stats(rms).hc_params, 431);
  const MuddShape last = mudd_shape(mudd(2), 1);
  EXPECT_EQ(last.ways, 1);
  EXPECT_EQ(last.sources, 3);
  EXPECT_EQ(last.hidden, 12);
}

TEST(Mudd, AtInitW2AndTheStaticWeightsLearnW1WaitsForW2) {
  // W2 = 0: W1's gradient W2-weighted is exactly 0 at init; W2's and a's are not.
  Gpt m(mudd(2));
  m->loss(testing::tokens(2, 8), testing::tokens(2, 8, 32, 2)).backward();
  for (const auto& p : named_params(*m)) {
    if (p.name.find(".mudd.") == std::string::npos) continue;
    const double g = p.tensor.grad().abs().max().item<double>();
    if (p.name.find(".w1") != std::string::npos) {
      EXPECT_EQ(g, 0.0) << p.name;
    } else {
      EXPECT_GT(g, 0.0) << p.name;
    }
  }
  // W1 starts normal(0, 1/sqrt(d)) from its own generator: the same for the same seed.
  auto* b0 = (*m->h)[0]->as<BlockImpl>();
  EXPECT_NEAR(b0->mudd->w1.std().item<double>(), 0.25, 0.05);
  EXPECT_TRUE(torch::equal(b0->mudd->w1, (*Gpt(mudd(2))->h)[0]->as<BlockImpl>()->mudd->w1));
}

}  // namespace
}  // namespace hcx::model
