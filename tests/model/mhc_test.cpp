// mHC (docs/method.md, "mHC"): doubly stochastic mixing, non-negative reads and writes,
// the documented init, the effective-matrix layout and Pre-Norm at init.
#include "hcx/model/mhc.h"

#include <cmath>

#include <gtest/gtest.h>

#include "hcx/model/gpt.h"
#include "model/tiny.h"

namespace hcx::model {
namespace {

using testing::max_abs_diff;
using testing::tiny;

double row_error(const torch::Tensor& m) { return (m.sum(-1) - 1).abs().max().item<double>(); }
double col_error(const torch::Tensor& m) { return (m.sum(-2) - 1).abs().max().item<double>(); }

TEST(Sinkhorn, RandomLogitsBecomeDoublyStochastic) {
  at::manual_seed(0);
  for (int64_t n : {2, 4, 8}) {
    const torch::Tensor m = sinkhorn_knopp(torch::randn({200, n, n}) * 0.5, 20);
    EXPECT_LT(row_error(m), 1e-4) << n;
    EXPECT_LT(col_error(m), 1e-5) << n;
    EXPECT_GE(m.min().item<double>(), 0.0);
  }
  // Huge logits neither overflow nor leave empty rows (log domain).
  const torch::Tensor big = sinkhorn_knopp(torch::randn({4, 3, 3}) * 200.0, 20);
  EXPECT_TRUE(torch::isfinite(big).all().item<bool>());
  EXPECT_LT(col_error(big), 1e-5);
}

TEST(Sinkhorn, NearPermutationsConvergeSlowly) {
  // The documented approximation (mhc.h): the near-identity init plus logit
  // noise of std 0.05 is ~1e-3 from row-stochastic after 20 rounds, < 1e-4 after 200.
  at::manual_seed(1);
  const int64_t n = 4;
  const torch::Tensor logits =
      torch::eye(n) * std::log(0.98 * (n - 1) / 0.02) + torch::randn({200, n, n}) * 0.05;  // (200, n, n)
  const torch::Tensor m20 = sinkhorn_knopp(logits, 20), m200 = sinkhorn_knopp(logits, 200);
  EXPECT_LT(col_error(m20), 1e-5);
  EXPECT_GT(row_error(m20), 1e-4);
  EXPECT_LT(row_error(m20), 5e-3);
  EXPECT_LT(row_error(m200), 1e-4);
}

TEST(Mhc, RandomInputsGiveDoublyStochasticMixingAndNonNegativeWeights) {
  for (int64_t n : {1, 2, 4, 8}) {
    // At init (default 20 rounds) and with every mixer parameter moved off its
    // init (200 rounds, see NearPermutationsConvergeSlowly), for random streams.
    for (bool perturbed : {false, true}) {
      torch::manual_seed(uint64_t(17 + n));  // the draws below: the same in every process (it once ran 6.8e-4 < 1e-3)
      auto cfg = tiny("mhc", n);
      if (perturbed) cfg.residual.sinkhorn_iters = 200;
      ManifoldHyperConnectionImpl mhc(cfg, 1);
      if (perturbed) {
        const at::NoGradGuard no_grad;
        const double nd = double(n * 16);
        for (auto* p : {&mhc.phi_pre, &mhc.phi_post, &mhc.phi_res}) p->normal_(0.0, 1.0 / std::sqrt(nd));
        for (auto* p : {&mhc.b_pre, &mhc.b_post, &mhc.b_res}) p->add_(torch::randn(p->sizes()) * 0.1);
        for (auto* p : {&mhc.alpha_pre, &mhc.alpha_post, &mhc.alpha_res}) p->fill_(0.1);
      }
      const std::string what = "n=" + std::to_string(n) + (perturbed ? " perturbed" : " init");
      const torch::Tensor H = torch::randn({3, 5, n, 16}) * 2.0;
      const MhcWeights w = mhc.weights(H);
      ASSERT_EQ(w.res.sizes(), (std::vector<int64_t>{3, 5, n, n}));
      EXPECT_LT(row_error(w.res), 1e-4) << what;
      EXPECT_LT(col_error(w.res), 1e-4) << what;
      EXPECT_GE(w.res.min().item<double>(), 0.0) << what;
      EXPECT_GE(w.pre.min().item<double>(), 0.0) << what;
      EXPECT_LE(w.pre.max().item<double>(), 1.0) << what;
      EXPECT_GE(w.post.min().item<double>(), 0.0) << what;
      EXPECT_LE(w.post.max().item<double>(), 2.0) << what;
      if (perturbed && n > 1) {
        EXPECT_GT(w.res.std(0).max().item<double>(), 1e-3) << what;  // token-dependent
      }
      // The token-mean matrix keeps A_r doubly stochastic.
      const torch::Tensor ar = mhc.matrix(H).narrow(0, 1, n).narrow(1, 1, n);
      EXPECT_LT((ar.sum(0) - 1).abs().max().item<double>(), 1e-4) << what;
      EXPECT_LT((ar.sum(1) - 1).abs().max().item<double>(), 1e-4) << what;
    }
  }
}

TEST(Mhc, ForwardEqualsFormulaAndMatrixLayout) {
  // H' = H^res H + (H^post)^T F(H^pre H); matrix = [[0, post], [pre^T, res^T]].
  const int64_t n = 3, d = 16;
  ManifoldHyperConnectionImpl mhc(tiny("mhc", n), 0);
  {
    const at::NoGradGuard no_grad;
    for (auto& p : mhc.parameters()) p.normal_(0.0, 0.5);
  }
  const torch::Tensor H = torch::randn({1, 1, n, d});
  const MhcWeights w = mhc.weights(H);
  const torch::Tensor W = torch::randn({d, d});
  const Sublayer f = [&](const torch::Tensor& h0) { return at::tanh(at::matmul(h0, W)); };
  const torch::Tensor pre = w.pre[0][0], post = w.post[0][0], res = w.res[0][0];  // (n), (n), (n, n)
  const torch::Tensor h0 = at::matmul(pre, H[0][0]);                            // (d)
  const torch::Tensor want = at::matmul(res, H[0][0]) + post.unsqueeze(1) * f(h0).unsqueeze(0);
  EXPECT_LT(max_abs_diff(mhc.forward(H, f)[0][0], want), 1e-5);
  const torch::Tensor m = mhc.matrix(H);
  EXPECT_LT(max_abs_diff(m[0].narrow(0, 1, n), post), 1e-6);
  EXPECT_LT(max_abs_diff(m.narrow(0, 1, n).select(1, 0), pre), 1e-6);
  EXPECT_LT(max_abs_diff(m.narrow(0, 1, n).narrow(1, 1, n), res.t()), 1e-6);
  EXPECT_EQ(m[0][0].item<float>(), 0.0f);
}

TEST(Mhc, InitMatrixIsNearPreNorm) {
  // H^pre = 0.98 e_k + 0.02, H^post = 1, H^res = 0.98 I + 0.02/(n-1) off the diagonal.
  const int64_t n = 4;
  for (int64_t k : {0, 5}) {
    ManifoldHyperConnectionImpl mhc(tiny("mhc", n), k);
    const torch::Tensor m = mhc.static_matrix();
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_NEAR(m[0][1 + i].item<double>(), 1.0, 1e-6);
      EXPECT_NEAR(m[1 + i][0].item<double>(), i == k % n ? 0.98 : 0.02, 1e-5);
      for (int64_t j = 0; j < n; ++j) {
        EXPECT_NEAR(m[1 + i][1 + j].item<double>(), i == j ? 0.98 : 0.02 / 3, 1e-5) << i << "," << j;
      }
    }
    // With no input dependence at init, matrix(H) equals the static matrix.
    EXPECT_LT(max_abs_diff(mhc.matrix(torch::randn({2, 3, n, 16})), m), 1e-6);
  }
}

TEST(Mhc, SetStaticMatrixRoundTrips) {
  const int64_t n = 3;
  ManifoldHyperConnectionImpl mhc(tiny("mhc", n), 0);
  torch::Tensor m = torch::zeros({n + 1, n + 1});
  m[0].narrow(0, 1, n).copy_(torch::tensor({0.5f, 1.0f, 1.5f}));
  m.narrow(0, 1, n).select(1, 0).copy_(torch::tensor({0.2f, 0.7f, 0.9f}));
  m.narrow(0, 1, n).narrow(1, 1, n).copy_(sinkhorn_knopp(torch::randn({n, n}), 50));
  mhc.set_static_matrix(m);
  EXPECT_LT(max_abs_diff(mhc.static_matrix(), m), 1e-5);
  m[1][0] = 1.5f;  // a sigmoid read weight cannot exceed 1
  EXPECT_THROW(mhc.set_static_matrix(m), std::invalid_argument);
}

TEST(Mhc, EqualsPreNormAtInitWithoutEps) {
  // Identical streams stay identical under a doubly stochastic H^res, H^post = 1
  // adds y once to each, and h0 is a multiple of the stream, which the
  // sublayer's norm removes when eps = 0.
  for (const char* reduce : {"sum", "mean"}) {
    auto pre_cfg = tiny("pre_norm"), cfg = tiny("mhc", 4);
    pre_cfg.model.norm_eps = cfg.model.norm_eps = 0.0;
    cfg.residual.reduce = reduce;
    Gpt pre(pre_cfg), mhc(cfg);
    const torch::Tensor idx = testing::tokens(2, 8);
    EXPECT_LT(max_abs_diff(pre->forward(idx), mhc->forward(idx)), 1e-5) << reduce;
  }
}

TEST(Mhc, FreezeFlagsSetRequiresGrad) {
  auto cfg = tiny("mhc", 2);
  cfg.residual.freeze_width = true;
  ManifoldHyperConnectionImpl w(cfg, 0);
  EXPECT_FALSE(w.phi_pre.requires_grad());
  EXPECT_FALSE(w.b_res.requires_grad());
  EXPECT_FALSE(w.alpha_res.requires_grad());
  EXPECT_TRUE(w.phi_post.requires_grad());
  EXPECT_TRUE(w.b_post.requires_grad());
}

}  // namespace
}  // namespace hcx::model
