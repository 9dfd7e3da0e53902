// Manifold-constrained hyper-connections (DeepSeek mHC; docs/method.md, "mHC").
// Shapes: B batch, T time, n streams, d = d_model; H is (B, T, n, d).
//
// Per sublayer and token: x = RMSNorm(H flattened to n*d) (no gain, eps
// model.norm_eps), then
//   H^pre  = sigmoid(alpha_pre * (x phi_pre) + b_pre)            (n)
//   H^post = 2 sigmoid(alpha_post * (x phi_post) + b_post)       (n)
//   H^res  = SinkhornKnopp(exp(alpha_res * mat(x phi_res) + b_res), residual.sinkhorn_iters)  (n, n)
//   h0 = H^pre H,  y = F(h0),  H' = H^res H + (H^post)^T y.
// Effective matrix (hyper_connections.h layout): [[0, H^post], [(H^pre)^T, (H^res)^T]],
// i.e. B = H^post, A_m = (H^pre)^T, A_r = (H^res)^T; A_r stays doubly stochastic.
//
// Static init (the paper publishes none). phi_* = 0 and alpha_* = 0.01, so the
// dynamic terms are 0 at init while their gradients are not. With
// eps = kMhcInitLeak = 0.02:
//   b_pre  = logit(1 - eps) at k mod n, logit(eps) elsewhere: H^pre = 0.98 e_k + 0.02 (others);
//            a sigmoid cannot reach 0/1 exactly, and a larger logit would saturate its gradient.
//   b_post = 0: H^post = 2 sigmoid(0) = 1 exactly.
//   b_res  = log((1 - eps)(n - 1) / eps) on the diagonal, 0 off it: exp() has
//            constant row and column sums, so Sinkhorn-Knopp returns it scaled
//            after one step: H^res = (1 - eps) I + eps/(n-1) (1 - I); for n = 1, [[1]].
// With identical streams (the embedding copied n times) any row-stochastic
// H^res keeps them identical, H^post = 1 adds y to each, and h0 is a multiple
// of the stream, so at init mHC equals Pre-Norm up to the norms' eps (tested).
// Gradients at init: with identical streams the gradient reaching H^res is
// constant along rows, a direction Sinkhorn-Knopp normalises away, so the res
// parameters start with (near-)zero gradient; the asymmetric H^pre breaks the
// symmetry within the first steps. For n = 1, H^res = [[1]] always and the res
// parameters never receive a gradient (kept for a uniform parameter layout).
// residual.freeze_width freezes the pre and res parts, freeze_beta the post part.
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>

#include "hcx/config/run_config.h"
#include "hcx/model/fused.h"
#include "hcx/model/hyper_connections.h"

namespace hcx::model {

inline constexpr double kMhcInitLeak = 0.02;

// Sinkhorn-Knopp on exp(logits), sinkhorn_knopp() of fused.h (fused on CPU,
// its plain-ATen reference elsewhere): logits (..., n, n) -> a matrix with
// non-negative entries whose rows and columns sum to ~1, by `iters` rounds of
// row then column normalisation, computed in the log domain (no overflow or
// empty rows for any finite logits). The columns are exact after the last
// round; the rows converge geometrically, slowly for matrices near a
// permutation: from the near-identity init plus token-dependent logit noise of
// std 0.05, 20 rounds leave row sums off by ~1e-3 (200 rounds: < 1e-4). That is
// the method's approximation (the paper uses 20); raise residual.sinkhorn_iters
// to tighten it.

// Per-token mHC maps for streams H (B, T, n, d): pre (B, T, n), post (B, T, n),
// res (B, T, n, n), float32, with autograd.
struct MhcWeights {
  torch::Tensor pre, post, res;
};

class ManifoldHyperConnectionImpl : public ResidualMixerImpl {
 public:
  ManifoldHyperConnectionImpl(const config::RunConfig& cfg, int64_t k);

  HcWeights mixing_weights(const torch::Tensor& H) override;
  torch::Tensor static_matrix() override;
  // Inverts the parameterisation: needs 0 < A_m < 1, 0 < B < 2 and A_r with
  // positive entries (doubly stochastic for an exact round trip).
  void set_static_matrix(const torch::Tensor& m) override;

  MhcWeights weights(const torch::Tensor& H);

  int64_t sinkhorn_iters;
  double eps;
  torch::Tensor phi_pre, phi_post, phi_res, b_pre, b_post, b_res, alpha_pre, alpha_post, alpha_res;
};

// [[0, post], [pre^T, res^T]] from pre (n), post (n), res (n, n).
torch::Tensor mhc_matrix(const torch::Tensor& pre, const torch::Tensor& post, const torch::Tensor& res);

}  // namespace hcx::model
