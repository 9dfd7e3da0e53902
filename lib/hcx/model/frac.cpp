// Frac-Connections (see frac.h). Shapes: B batch, T time, m fractions of e
// features, d = m e; the stream x is (B, T, d), its fractions F (B, T, m, e).
#include "hcx/model/frac.h"

#include <stdexcept>
#include <string>
#include <tuple>

#include <ATen/ATen.h>
#include <torch/types.h>

#include "hcx/model/fused.h"
#include "hcx/model/mixing_guard.h"

namespace hcx::model {

FracConnectionImpl::FracConnectionImpl(const config::RunConfig& cfg)
    : dynamic(cfg.residual.dynamic),
      use_tanh(cfg.residual.tanh),
      use_norm(cfg.residual.dynamic_norm),
      use_scale(cfg.residual.dynamic_scale),
      m_(cfg.residual.n),
      e_(cfg.model.d_model / cfg.residual.n) {
  const int64_t m = m_, e = e_;
  // Registration order is the naming contract of param_specs.cpp.
  static_beta = register_parameter("static_beta", torch::ones({m}));
  static_alpha = register_parameter("static_alpha", at::cat({torch::eye(m), torch::eye(m)}, 1));  // [Y | A]
  if (dynamic) {
    dynamic_alpha_fn = register_parameter("dynamic_alpha_fn", torch::zeros({e, 2 * m}));
    dynamic_beta_fn = register_parameter("dynamic_beta_fn", torch::zeros({e}));
    if (use_scale) {
      dynamic_alpha_scale = register_parameter("dynamic_alpha_scale", torch::full({1}, 0.01));
      dynamic_beta_scale = register_parameter("dynamic_beta_scale", torch::full({1}, 0.01));
    }
    if (use_norm) norm = register_module("norm", make_norm(cfg.model, e));
  }
  const bool fw = cfg.residual.freeze_width, fb = cfg.residual.freeze_beta;
  static_alpha.set_requires_grad(!fw);
  static_beta.set_requires_grad(!fb);
  if (dynamic) {
    dynamic_alpha_fn.set_requires_grad(!fw);
    dynamic_beta_fn.set_requires_grad(!fb);
    if (use_scale) {
      dynamic_alpha_scale.set_requires_grad(!fw);
      dynamic_beta_scale.set_requires_grad(!fb);
    }
    if (use_norm && norm->weight.defined()) norm->weight.set_requires_grad(!(fw && fb));
  }
}

namespace {

// The FC matrix averaged over tokens where the weights are per token.
torch::Tensor token_mean_matrix(const FracWeights& w, int64_t m) {
  if (w.alpha.dim() == 2) return hc_matrix(w.beta, w.alpha);
  return hc_matrix(w.beta.reshape({-1, m}).mean(0), w.alpha.reshape({-1, m, 2 * m}).mean(0));
}

}  // namespace

FracWeights FracConnectionImpl::weights(const torch::Tensor& x) {
  MixingGuard fp32;
  return weights_of(x.to(mixing_dtype(x)).reshape({x.size(0), x.size(1), m_, e_}));
}

FracWeights FracConnectionImpl::weights_of(const torch::Tensor& F) {
  if (!dynamic) return {static_alpha, static_beta};  // (m, 2m), (m)
  MixingGuard fp32;
  const int64_t m = m_;
  // Both projections as one: (e, 2m+1) = [W_a | w_b], on each fraction
  // normalised over e (RMSNorm's gain folded into the weight).
  torch::Tensor W = at::cat({dynamic_alpha_fn, dynamic_beta_fn.unsqueeze(1)}, 1);
  torch::Tensor proj;  // (B, T, m, 2m+1): row i from fraction i only
  if (use_norm) {
    if (norm->rms) W = norm->weight.to(W.scalar_type()).unsqueeze(1) * W;
    proj = normed_matmul(F, W, /*center=*/!norm->rms, norm->eps);
  } else {
    proj = at::matmul(F, W);
  }
  torch::Tensor wc = proj.narrow(-1, 0, 2 * m);  // (B, T, m, 2m)
  torch::Tensor dc = proj.select(-1, 2 * m);     // (B, T, m)
  if (use_tanh) {
    wc = at::tanh(wc);
    dc = at::tanh(dc);
  }
  if (use_scale) {
    wc = dynamic_alpha_scale * wc;
    dc = dynamic_beta_scale * dc;
  }
  return {static_alpha + wc, static_beta + dc};  // [Y | A](F) (B, T, m, 2m), B(F) (B, T, m)
}

torch::Tensor FracConnectionImpl::forward(const torch::Tensor& x, const Sublayer& f, torch::Tensor* matrix_out) {
  const int64_t B = x.size(0), T = x.size(1), m = m_, e = e_;
  torch::Tensor h0, rest, beta;
  {
    MixingGuard fp32;
    const torch::Tensor F = x.to(mixing_dtype(x)).reshape({B, T, m, e});  // (B, T, m, e)
    const FracWeights w = weights_of(F);
    // mix_j = sum_i alpha[i][j] f_i: the m read fractions concatenated, h0 (B, T, d),
    // and the m mixed ones, rest (B, T, m, e)
    std::tie(h0, rest) = read_streams(w.alpha, F);
    beta = w.beta;  // (m) | (B, T, m)
    if (matrix_out != nullptr) {
      const at::NoGradGuard no_grad;
      *matrix_out = token_mean_matrix(w, m);
    }
  }
  const torch::Tensor y = f(h0);  // (B, T, d), the sublayer (caller's autocast)
  MixingGuard fp32;
  return write_streams(rest, beta, y.to(rest.scalar_type())).reshape({B, T, m * e});  // B_j y_j + mix_{m+j}
}

torch::Tensor FracConnectionImpl::static_matrix() {
  const at::NoGradGuard no_grad;
  return hc_matrix(static_beta, static_alpha);
}

void FracConnectionImpl::set_static_matrix(const torch::Tensor& mat) {
  const int64_t m = m_;
  if (mat.dim() != 2 || mat.size(0) != m + 1 || mat.size(1) != 2 * m) {
    throw std::invalid_argument("FracConnection::set_static_matrix: expected a " + std::to_string(m + 1) + "x" +
                                std::to_string(2 * m) + " matrix");
  }
  const at::NoGradGuard no_grad;
  const torch::Tensor mf = mat.to(static_alpha.device(), at::kFloat);
  static_beta.copy_(mf.select(0, 0).narrow(0, m, m));  // row 0, columns m..2m-1
  static_alpha.copy_(mf.narrow(0, 1, m));              // rows 1..m: [Y | A]
}

}  // namespace hcx::model
