// Hyper-connections (docs/method.md, "Static HC", "Dynamic HC"): the update against the paper's formula,
// the sequential and parallel special cases (which catch transposed A_m / A_r),
// dynamic weights, parameter counts and freezing.
#include "hcx/model/hyper_connections.h"

#include <gtest/gtest.h>

#include "hcx/model/gpt.h"
#include "hcx/model/param_specs.h"
#include "model/tiny.h"

namespace hcx::model {
namespace {

using testing::max_abs_diff;
using testing::tiny;

int64_t count(const torch::nn::Module& m) {
  int64_t k = 0;
  for (const auto& p : m.parameters()) k += p.numel();
  return k;
}

// A fixed nonlinear sublayer: h0 (B, T, d) -> tanh(h0 W).
Sublayer make_sublayer(int64_t d, uint64_t seed, std::vector<torch::Tensor>* inputs = nullptr) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  const torch::Tensor W = at::normal(0.0, 1.0, {d, d}, gen);
  return [W, inputs](const torch::Tensor& h0) {
    if (inputs) inputs->push_back(h0);
    return at::tanh(at::matmul(h0, W));
  };
}

TEST(HyperConnection, StaticInitIsPreNorm) {
  for (int64_t k = 0; k < 6; ++k) {
    HyperConnectionImpl hc(tiny("hc", 4, false), k);
    torch::Tensor want = torch::zeros({5, 5});
    want[0].narrow(0, 1, 4).fill_(1.0);       // B = ones
    want[1 + k % 4][0] = 1.0;                 // A_m = e_{k mod n}
    want.narrow(0, 1, 4).narrow(1, 1, 4).copy_(torch::eye(4));  // A_r = I
    EXPECT_TRUE(torch::equal(hc.static_matrix(), want)) << "k=" << k << "\n" << hc.static_matrix();
  }
}

TEST(HyperConnection, ForwardEqualsPaperFormula) {
  // Stream j of H' is B_j y + sum_i A_r[i][j] H_i with y = F(sum_i A_m[i] H_i),
  // for a matrix with no symmetry, so any transposition shows.
  const int64_t n = 3, d = 4;
  HyperConnectionImpl hc(tiny("hc", n, false), 0);
  const torch::Tensor M = torch::randn({n + 1, n + 1});
  hc.set_static_matrix(M);
  EXPECT_TRUE(torch::equal(hc.static_matrix().narrow(0, 1, n), M.narrow(0, 1, n)));
  const torch::Tensor H = torch::randn({2, 3, n, d});
  const Sublayer f = make_sublayer(d, 5);
  const torch::Tensor out = hc.forward(H, f);
  torch::Tensor h0 = torch::zeros({2, 3, d});
  for (int64_t i = 0; i < n; ++i) h0 += M[1 + i][0] * H.select(2, i);
  const torch::Tensor y = f(h0);
  for (int64_t j = 0; j < n; ++j) {
    torch::Tensor want = M[0][1 + j] * y;
    for (int64_t i = 0; i < n; ++i) want = want + M[1 + i][1 + j] * H.select(2, i);
    EXPECT_LT(max_abs_diff(out.select(2, j), want), 1e-5) << "stream " << j;
  }
}

TEST(HyperConnection, SequentialArrangementComputesPreNorm) {
  // Every sublayer [[0,1,1],[1,1,0],[0,0,1]]: both streams carry the Pre-Norm
  // stream; with the same shared weights the logits and every h0 agree.
  auto cfg = tiny("hc", 2, false);
  cfg.residual.reduce = "mean";
  Gpt pre(tiny("pre_norm")), hc(cfg);
  testing::perturb(*pre, 0.2);  // away from init: output projections matter
  testing::copy_shared(*pre, *hc);
  const torch::Tensor M = torch::tensor({0.f, 1.f, 1.f, 1.f, 1.f, 0.f, 0.f, 0.f, 1.f}).reshape({3, 3});
  for (int64_t k = 0; k < hc->n_sublayers(); ++k) hc->mixer(k)->set_static_matrix(M);
  const torch::Tensor idx = testing::tokens(2, 8);
  ForwardTrace tp, th;
  const torch::Tensor a = pre->forward(idx, &tp), b = hc->forward(idx, &th);
  EXPECT_LT(max_abs_diff(a, b), 1e-5);
  ASSERT_EQ(th.sublayer_inputs.size(), 4u);
  for (size_t k = 0; k < 4; ++k) EXPECT_LT(max_abs_diff(tp.sublayer_inputs[k], th.sublayer_inputs[k]), 1e-5) << k;
  for (const auto& m : th.hc_matrices) EXPECT_TRUE(torch::equal(m, M));
  // A read of the wrong stream (A_m = e_1) would still agree here since the
  // streams are equal; the parallel case below tells the layouts apart.
}

TEST(HyperConnection, ParallelArrangement) {
  // First sublayer [[0,1,0],[1,1,1],[1,1,1]], second [[0,0,1],[0,1,0],[1,0,1]]:
  // both read s = H_1 + H_2 and the streams leave as (s + F1(s), s + F2(s)).
  const int64_t d = 4;
  HyperConnectionImpl first(tiny("hc", 2, false), 0), second(tiny("hc", 2, false), 1);
  first.set_static_matrix(torch::tensor({0.f, 1.f, 0.f, 1.f, 1.f, 1.f, 1.f, 1.f, 1.f}).reshape({3, 3}));
  second.set_static_matrix(torch::tensor({0.f, 0.f, 1.f, 0.f, 1.f, 0.f, 1.f, 0.f, 1.f}).reshape({3, 3}));
  std::vector<torch::Tensor> in1, in2;
  const Sublayer f1 = make_sublayer(d, 11, &in1), f2 = make_sublayer(d, 12, &in2);
  const torch::Tensor H = torch::randn({2, 3, 2, d});
  const torch::Tensor s = H.select(2, 0) + H.select(2, 1);
  const torch::Tensor out = second.forward(first.forward(H, f1), f2);
  ASSERT_EQ(in1.size(), 1u);
  ASSERT_EQ(in2.size(), 1u);
  EXPECT_LT(max_abs_diff(in1[0], s), 1e-6);
  EXPECT_LT(max_abs_diff(in2[0], s), 1e-6);
  EXPECT_LT(max_abs_diff(out.select(2, 0), s + f1(s)), 1e-5);
  EXPECT_LT(max_abs_diff(out.select(2, 1), s + f2(s)), 1e-5);
}

TEST(HyperConnection, DynamicWeightsEqualPaperFormula) {
  // A(H) = A + s_a tanh(norm(H) W_a), B(H) = B + s_b tanh(norm(H) W_b)^T; row i from stream i.
  for (bool use_tanh : {true, false}) {
    auto cfg = tiny("hc", 3, true);
    cfg.residual.tanh = use_tanh;
    HyperConnectionImpl hc(cfg, 1);
    {
      const at::NoGradGuard no_grad;
      for (auto& p : hc.parameters()) p.normal_(0.0, 0.5);
    }
    const torch::Tensor H = torch::randn({2, 5, 3, 16});
    const HcWeights w = hc.weights(H);
    ASSERT_EQ(w.alpha.sizes(), (std::vector<int64_t>{2, 5, 3, 4}));
    ASSERT_EQ(w.beta.sizes(), (std::vector<int64_t>{2, 5, 3}));
    auto act = [&](const torch::Tensor& t) { return use_tanh ? at::tanh(t) : t; };
    for (int64_t i = 0; i < 3; ++i) {
      const torch::Tensor x = H[1][4][i];                                       // (d)
      const torch::Tensor xn = (x - x.mean()) / at::sqrt(x.var(/*unbiased=*/false) + 1e-5);
      const torch::Tensor a = hc.static_alpha[i] + hc.dynamic_alpha_scale * act(at::matmul(xn, hc.dynamic_alpha_fn));
      const torch::Tensor b = hc.static_beta[i] + hc.dynamic_beta_scale * act(at::dot(xn, hc.dynamic_beta_fn));
      EXPECT_LT(max_abs_diff(w.alpha[1][4][i], a), 1e-5) << "row " << i;
      EXPECT_LT(max_abs_diff(w.beta[1][4][i], b.reshape({})), 1e-5) << "row " << i;
    }
    // matrix(H) is the token mean of [[0, B(H)], [A(H)]].
    const torch::Tensor m = hc.matrix(H);
    EXPECT_LT(max_abs_diff(m.narrow(0, 1, 3), w.alpha.mean(std::vector<int64_t>{0, 1})), 1e-6);
    EXPECT_LT(max_abs_diff(m[0].narrow(0, 1, 3), w.beta.mean(std::vector<int64_t>{0, 1})), 1e-6);
  }
}

TEST(HyperConnection, ParameterCountsMatchPaper) {
  for (int64_t n : {1, 2, 4, 8}) {
    auto cfg = tiny("hc", n, false);
    const int64_t d = cfg.model.d_model;
    EXPECT_EQ(count(HyperConnectionImpl(cfg, 0)), n * (n + 2)) << "SHC n=" << n;
    EXPECT_EQ(mixer_params(cfg), n * (n + 2));
    cfg.residual.dynamic = true;
    EXPECT_EQ(count(HyperConnectionImpl(cfg, 0)), d * (n + 2) + n * (n + 2) + 2) << "DHC n=" << n;
    EXPECT_EQ(mixer_params(cfg), d * (n + 2) + n * (n + 2) + 2);
    cfg.model.norm = "rmsnorm";
    EXPECT_EQ(count(HyperConnectionImpl(cfg, 0)), d * (n + 2) + n * (n + 2) + 2 + d) << "DHC rmsnorm n=" << n;
    EXPECT_EQ(mixer_params(cfg), d * (n + 2) + n * (n + 2) + 2 + d);
  }
}

TEST(HyperConnection, FreezeFlagsSetRequiresGrad) {
  auto cfg = tiny("hc", 2, true);
  cfg.residual.freeze_width = true;
  HyperConnectionImpl w(cfg, 0);
  EXPECT_FALSE(w.static_alpha.requires_grad());
  EXPECT_FALSE(w.dynamic_alpha_fn.requires_grad());
  EXPECT_FALSE(w.dynamic_alpha_scale.requires_grad());
  EXPECT_TRUE(w.static_beta.requires_grad());
  EXPECT_TRUE(w.dynamic_beta_fn.requires_grad());
  cfg.residual.freeze_width = false;
  cfg.residual.freeze_beta = true;
  HyperConnectionImpl b(cfg, 0);
  EXPECT_TRUE(b.static_alpha.requires_grad());
  EXPECT_FALSE(b.static_beta.requires_grad());
  EXPECT_FALSE(b.dynamic_beta_fn.requires_grad());
  EXPECT_FALSE(b.dynamic_beta_scale.requires_grad());
}

TEST(HyperConnection, SetStaticMatrixRejectsWrongShape) {
  HyperConnectionImpl hc(tiny("hc", 2, false), 0);
  EXPECT_THROW(hc.set_static_matrix(torch::zeros({2, 2})), std::invalid_argument);
}

}  // namespace
}  // namespace hcx::model
