// Static and dynamic hyper-connections (docs/method.md, "Static HC", "Dynamic HC"; see hyper_connections.h).
// Shapes: B batch, T time, n streams, d = d_model; H is (B, T, n, d).
#include "hcx/model/hyper_connections.h"

#include <stdexcept>
#include <string>
#include <tuple>

#include <ATen/ATen.h>
#include <torch/types.h>

#include "hcx/model/fused.h"
#include "hcx/model/mhc.h"
#include "hcx/model/mixing_guard.h"

namespace hcx::model {

// ---------------------------------------------------------------------------- ResidualMixerImpl

namespace {

// The effective matrix of weights w, averaged over tokens where they are per token.
torch::Tensor token_mean_matrix(const HcWeights& w, int64_t n) {
  if (w.alpha.dim() == 2) return hc_matrix(w.beta, w.alpha);
  return hc_matrix(w.beta.reshape({-1, n}).mean(0), w.alpha.reshape({-1, n, n + 1}).mean(0));
}

}  // namespace

torch::Tensor ResidualMixerImpl::forward(const torch::Tensor& H, const Sublayer& f, torch::Tensor* matrix_out) {
  torch::Tensor h0, rest, beta;
  {
    MixingGuard fp32;
    const torch::Tensor Hf = H.to(mixing_dtype(H));                   // (B, T, n, d)
    const HcWeights w = mixing_weights(Hf);
    std::tie(h0, rest) = read_streams(w.alpha, Hf);                   // A_m^T H (B, T, d), A_r^T H (B, T, n, d)
    beta = w.beta;                                                    // (n) | (B, T, n)
    if (matrix_out != nullptr) {
      const at::NoGradGuard no_grad;
      *matrix_out = token_mean_matrix(w, n_);
    }
  }
  const torch::Tensor y = f(h0);                                      // (B, T, d), the sublayer (caller's autocast)
  MixingGuard fp32;
  return write_streams(rest, beta, y.to(rest.scalar_type()));         // rest_j + B_j y: (B, T, n, d)
}

torch::Tensor ResidualMixerImpl::matrix(const torch::Tensor& H) {
  const at::NoGradGuard no_grad;
  MixingGuard fp32;
  return token_mean_matrix(mixing_weights(H.to(mixing_dtype(H))), n_);
}

// ---------------------------------------------------------------------------- HyperConnectionImpl

HyperConnectionImpl::HyperConnectionImpl(const config::RunConfig& cfg, int64_t k)
    : ResidualMixerImpl(cfg.residual.n, k), dynamic(cfg.residual.dynamic), use_tanh(cfg.residual.tanh) {
  const int64_t n = n_, d = cfg.model.d_model;
  torch::Tensor alpha0 = torch::zeros({n, n + 1});  // [A_m | A_r] = [e_{k mod n} | I]
  alpha0.select(1, 0).select(0, k % n).fill_(1.0);
  alpha0.narrow(1, 1, n).copy_(torch::eye(n));
  // Registration order is the naming contract of param_specs.cpp.
  static_beta = register_parameter("static_beta", torch::ones({n}));
  static_alpha = register_parameter("static_alpha", alpha0);
  if (dynamic) {
    dynamic_alpha_fn = register_parameter("dynamic_alpha_fn", torch::zeros({d, n + 1}));
    dynamic_beta_fn = register_parameter("dynamic_beta_fn", torch::zeros({d}));
    dynamic_alpha_scale = register_parameter("dynamic_alpha_scale", torch::full({1}, 0.01));
    dynamic_beta_scale = register_parameter("dynamic_beta_scale", torch::full({1}, 0.01));
    norm = register_module("norm", make_norm(cfg.model, d));
  }
  const bool fw = cfg.residual.freeze_width, fb = cfg.residual.freeze_beta;
  static_alpha.set_requires_grad(!fw);
  static_beta.set_requires_grad(!fb);
  if (dynamic) {
    dynamic_alpha_fn.set_requires_grad(!fw);
    dynamic_alpha_scale.set_requires_grad(!fw);
    dynamic_beta_fn.set_requires_grad(!fb);
    dynamic_beta_scale.set_requires_grad(!fb);
    if (norm->weight.defined()) norm->weight.set_requires_grad(!(fw && fb));
  }
}

HcWeights HyperConnectionImpl::weights(const torch::Tensor& H) {
  if (!dynamic) return {static_alpha, static_beta};       // (n, n+1), (n)
  MixingGuard fp32;
  const int64_t n = n_;
  const torch::Tensor Hf = H.to(mixing_dtype(H));          // (B, T, n, d)
  // Both projections as one: (d, n+2) = [W_alpha | W_beta], on each stream
  // normalised over d (RMSNorm's gain folded into the weight), in one pass.
  torch::Tensor W = at::cat({dynamic_alpha_fn, dynamic_beta_fn.unsqueeze(1)}, 1);
  if (norm->rms) W = norm->weight.to(W.scalar_type()).unsqueeze(1) * W;
  const torch::Tensor proj = normed_matmul(Hf, W, /*center=*/!norm->rms, norm->eps);  // (B, T, n, n+2)
  torch::Tensor wc = proj.narrow(-1, 0, n + 1);            // (B, T, n, n+1): row i from stream i only
  torch::Tensor dc = proj.select(-1, n + 1);               // (B, T, n)
  if (use_tanh) {
    wc = at::tanh(wc);
    dc = at::tanh(dc);
  }
  return {static_alpha + dynamic_alpha_scale * wc,        // (B, T, n, n+1) = A(H)
          static_beta + dynamic_beta_scale * dc};          // (B, T, n)      = B(H)
}

torch::Tensor HyperConnectionImpl::static_matrix() {
  const at::NoGradGuard no_grad;
  return hc_matrix(static_beta, static_alpha);
}

void HyperConnectionImpl::set_static_matrix(const torch::Tensor& m) {
  const int64_t n = n_;
  if (m.dim() != 2 || m.size(0) != n + 1 || m.size(1) != n + 1) {
    throw std::invalid_argument("HyperConnection::set_static_matrix: expected a " + std::to_string(n + 1) + "x" +
                                std::to_string(n + 1) + " matrix");
  }
  const at::NoGradGuard no_grad;
  const torch::Tensor mf = m.to(static_alpha.device(), at::kFloat);
  static_beta.copy_(mf.select(0, 0).narrow(0, 1, n));  // row 0 without [0][0]
  static_alpha.copy_(mf.narrow(0, 1, n));              // rows 1..n: [A_m | A_r]
}

torch::Tensor hc_matrix(const torch::Tensor& beta, const torch::Tensor& alpha) {
  const int64_t n = beta.size(0), c = alpha.size(-1);
  const torch::Tensor top = at::cat({at::zeros({c - n}, beta.options()), beta}).reshape({1, c});  // (1, c)
  return at::cat({top, alpha}, 0).to(at::kFloat).detach();                                        // (n+1, c)
}

std::shared_ptr<ResidualMixerImpl> make_mixer(const config::RunConfig& cfg, int64_t k) {
  if (cfg.residual.kind == "hc") return std::make_shared<HyperConnectionImpl>(cfg, k);
  if (cfg.residual.kind == "mhc") return std::make_shared<ManifoldHyperConnectionImpl>(cfg, k);
  throw std::logic_error("make_mixer: residual.kind '" + cfg.residual.kind + "' has no mixer");
}

}  // namespace hcx::model
