// Manifold-constrained hyper-connections (docs/method.md, "mHC"; see mhc.h for the maths and the init).
// Shapes: B batch, T time, n streams, d = d_model; H is (B, T, n, d).
#include "hcx/model/mhc.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <torch/types.h>

#include "hcx/model/fused.h"
#include "hcx/model/mixing_guard.h"

namespace hcx::model {

ManifoldHyperConnectionImpl::ManifoldHyperConnectionImpl(const config::RunConfig& cfg, int64_t k)
    : ResidualMixerImpl(cfg.residual.n, k), sinkhorn_iters(cfg.residual.sinkhorn_iters), eps(cfg.model.norm_eps) {
  const int64_t n = n_, nd = n * cfg.model.d_model;
  const double leak = kMhcInitLeak;
  torch::Tensor pre0 = torch::full({n}, std::log(leak / (1.0 - leak)));  // logit(eps)
  pre0.select(0, k % n).fill_(std::log((1.0 - leak) / leak));            // logit(1 - eps) at k mod n
  torch::Tensor res0 = torch::zeros({n, n});
  if (n > 1) res0 += torch::eye(n) * std::log((1.0 - leak) * double(n - 1) / leak);
  // Registration order is the naming contract of param_specs.cpp.
  phi_pre = register_parameter("phi_pre", torch::zeros({nd, n}));
  phi_post = register_parameter("phi_post", torch::zeros({nd, n}));
  phi_res = register_parameter("phi_res", torch::zeros({nd, n * n}));
  b_pre = register_parameter("b_pre", pre0);
  b_post = register_parameter("b_post", torch::zeros({n}));
  b_res = register_parameter("b_res", res0);
  alpha_pre = register_parameter("alpha_pre", torch::full({1}, 0.01));
  alpha_post = register_parameter("alpha_post", torch::full({1}, 0.01));
  alpha_res = register_parameter("alpha_res", torch::full({1}, 0.01));
  const bool fw = cfg.residual.freeze_width, fb = cfg.residual.freeze_beta;
  for (auto* p : {&phi_pre, &phi_res, &b_pre, &b_res, &alpha_pre, &alpha_res}) p->set_requires_grad(!fw);
  for (auto* p : {&phi_post, &b_post, &alpha_post}) p->set_requires_grad(!fb);
}

MhcWeights ManifoldHyperConnectionImpl::weights(const torch::Tensor& H) {
  const int64_t n = n_;
  MixingGuard fp32;
  const torch::Tensor x = H.to(mixing_dtype(H)).flatten(-2);                   // (B, T, n*d)
  // RMSNorm(x) [phi_pre | phi_post | phi_res] in one pass: (B, T, 2n + n*n)
  const torch::Tensor z = normed_matmul(x, at::cat({phi_pre, phi_post, phi_res}, 1), /*center=*/false, eps);
  const torch::Tensor pre = at::sigmoid(alpha_pre * z.narrow(-1, 0, n) + b_pre);            // (B, T, n)
  const torch::Tensor post = 2.0 * at::sigmoid(alpha_post * z.narrow(-1, n, n) + b_post);  // (B, T, n)
  std::vector<int64_t> shape = z.sizes().vec();
  shape.back() = n;
  shape.push_back(n);
  const torch::Tensor res = (alpha_res * z.narrow(-1, 2 * n, n * n)).reshape(shape) + b_res;  // (B, T, n, n)
  return {pre, post, sinkhorn_knopp(res, sinkhorn_iters)};
}

HcWeights ManifoldHyperConnectionImpl::mixing_weights(const torch::Tensor& H) {
  const MhcWeights w = weights(H);
  // A_m = (H^pre)^T, A_r = (H^res)^T, B = H^post (mhc.h)
  return {at::cat({w.pre.unsqueeze(-1), w.res.transpose(-1, -2)}, -1), w.post};  // (B, T, n, n+1), (B, T, n)
}

torch::Tensor ManifoldHyperConnectionImpl::static_matrix() {
  const at::NoGradGuard no_grad;
  MixingGuard fp32;
  return mhc_matrix(at::sigmoid(b_pre), 2.0 * at::sigmoid(b_post), sinkhorn_knopp(b_res, sinkhorn_iters));
}

void ManifoldHyperConnectionImpl::set_static_matrix(const torch::Tensor& m) {
  const int64_t n = n_;
  if (m.dim() != 2 || m.size(0) != n + 1 || m.size(1) != n + 1) {
    throw std::invalid_argument("ManifoldHyperConnection::set_static_matrix: expected a " + std::to_string(n + 1) +
                                "x" + std::to_string(n + 1) + " matrix");
  }
  const at::NoGradGuard no_grad;
  const torch::Tensor mf = m.to(b_pre.device(), at::kDouble);
  const torch::Tensor post = mf.select(0, 0).narrow(0, 1, n);  // (n) = H^post
  const torch::Tensor pre = mf.select(1, 0).narrow(0, 1, n);   // (n) = H^pre
  const torch::Tensor res = mf.narrow(0, 1, n).narrow(1, 1, n).t();  // (n, n) = H^res
  const bool ok = (pre > 0).all().item<bool>() && (pre < 1).all().item<bool>() &&
                  (post > 0).all().item<bool>() && (post < 2).all().item<bool>() && (res > 0).all().item<bool>();
  if (!ok) {
    throw std::invalid_argument(
        "ManifoldHyperConnection::set_static_matrix: mHC needs 0 < A_m < 1, 0 < B < 2 and A_r > 0");
  }
  b_pre.copy_(at::logit(pre));
  b_post.copy_(at::logit(post / 2.0));
  b_res.copy_(at::log(res));
}

torch::Tensor mhc_matrix(const torch::Tensor& pre, const torch::Tensor& post, const torch::Tensor& res) {
  const int64_t n = pre.size(0);
  const torch::Tensor top = at::cat({at::zeros({1}, post.options()), post}).reshape({1, n + 1});  // (1, n+1)
  const torch::Tensor body = at::cat({pre.reshape({n, 1}), res.t()}, 1);                         // (n, n+1)
  return at::cat({top, body}, 0).to(at::kFloat).detach();                                        // (n+1, n+1)
}

}  // namespace hcx::model
