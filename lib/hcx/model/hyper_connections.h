// Hyper-connections (docs/method.md, "Hyper-connections: the shared update"):
// the residual stream becomes n streams and each sublayer reads, writes and
// mixes them through a learned (n+1)x(n+1) matrix. ResidualMixerImpl is the
// interface that HC (here) and mHC (mhc.h) share; Block (gpt.h) holds one
// mixer per sublayer, named hc_attn / hc_ffn.
//
// Shapes: B batch, T time, n streams (residual.n), d = model.d_model.
// Stream layout: H is (B, T, n, d) everywhere (stream index before features).
//
// The effective matrix of a mixer is the (n+1)x(n+1) matrix of the paper,
//   [[0,   B  ],     row 0:     0, then B (1 x n): how much of the sublayer output each stream receives
//    [A_m, A_r]]     rows 1..n: A_m (n x 1): the read weights; A_r (n x n): stream mixing
// with the update h0 = A_m^T H, y = F(h0), H' = B^T y + A_r^T H, i.e. stream j
// of H' is B_j y + sum_i A_r[i][j] H_i. For mHC the same layout holds with
// B = H^post, A_m = (H^pre)^T and A_r = (H^res)^T (see mhc.h), so the
// measurements (cross-layer unfolding c_kj = B^j (prod A_r) A_m^k) treat both alike.
//
// Autocast: under bfloat16 autocast on CUDA the mixing (reads, writes, stream
// mixing, DHC projections and norm) runs in float32: the streams are cast to
// float32 explicitly and the autocast dispatch keys are excluded around the
// mixing, so matmuls there are not downcast. The sublayer F itself runs under
// the caller's autocast. The returned streams are float32.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include "hcx/config/run_config.h"
#include "hcx/model/layers.h"

namespace hcx::model {

// A sublayer including its own pre-norm: h0 (B, T, d) -> y (B, T, d).
using Sublayer = std::function<torch::Tensor(const torch::Tensor&)>;

// Per-token weights in the effective matrix's layout: alpha = [A_m | A_r] and
// beta = B, broadcastable against (B, T, n, .): static HC alpha (n, n+1),
// beta (n); dynamic HC and mHC alpha (B, T, n, n+1), beta (B, T, n).
struct HcWeights {
  torch::Tensor alpha;
  torch::Tensor beta;
};

// One residual connection over n streams, for sublayer k (k = 2i for the
// attention of block i, 2i+1 for its FFN). Not thread-safe across concurrent
// forwards of the same module (LibTorch modules are not).
class ResidualMixerImpl : public torch::nn::Module {
 public:
  ResidualMixerImpl(int64_t n, int64_t k) : n_(n), k_(k) {}
  ~ResidualMixerImpl() override = default;

  // Runs sublayer `f` with this connection: H (B, T, n, d), any floating dtype
  // -> H' (B, T, n, d) float32: h0 = A_m^T H, y = f(h0), H' = B^T y + A_r^T H
  // with the weights of mixing_weights(). When `matrix_out` is non-null it
  // receives the effective matrix averaged over the B*T tokens of this call:
  // (n+1, n+1), float32, detached, on H's device.
  torch::Tensor forward(const torch::Tensor& H, const Sublayer& f, torch::Tensor* matrix_out = nullptr);

  // The effective matrix for streams H (B, T, n, d), averaged over tokens
  // (equal to static_matrix() for static HC). (n+1, n+1) float32, detached.
  torch::Tensor matrix(const torch::Tensor& H);

  // The weights for float32 streams H (B, T, n, d) in the effective matrix's
  // layout, with autograd; called under MixingGuard (mixing_guard.h).
  virtual HcWeights mixing_weights(const torch::Tensor& H) = 0;

  // The token-independent part: the effective matrix when every dynamic term
  // is zero (as at init). (n+1, n+1) float32, detached, on the parameters' device.
  virtual torch::Tensor static_matrix() = 0;

  // Sets the static parameters so that static_matrix() == m (n+1, n+1); the
  // [0][0] entry is ignored. For tests and analyses (e.g. PAPER's sequential
  // and parallel arrangements). Throws std::invalid_argument on a wrong shape
  // or, for mHC, on values outside what its parameterisation can express.
  virtual void set_static_matrix(const torch::Tensor& m) = 0;

  int64_t n() const { return n_; }
  int64_t k() const { return k_; }

 protected:
  int64_t n_, k_;
};

// Static or dynamic hyper-connections (residual.kind "hc").
// Parameters (param_specs.h): static_beta (n) init ones; static_alpha (n, n+1)
// init [e_{k mod n} | I_n]; dynamic: dynamic_alpha_fn (d, n+1) and
// dynamic_beta_fn (d) init zero, dynamic_alpha_scale, dynamic_beta_scale (1)
// init 0.01, norm (model.norm over d, per stream). So SHC = DHC = Pre-Norm at
// init. residual.freeze_width / freeze_beta set requires_grad=false on the
// alpha / beta parts. Initialisation is deterministic and draws no random numbers.
class HyperConnectionImpl : public ResidualMixerImpl {
 public:
  HyperConnectionImpl(const config::RunConfig& cfg, int64_t k);

  HcWeights mixing_weights(const torch::Tensor& H) override { return weights(H); }
  torch::Tensor static_matrix() override;
  void set_static_matrix(const torch::Tensor& m) override;

  // The weights for streams H (B, T, n, d), float32 (also under autocast), with autograd.
  // Dynamic: alpha = static_alpha + s_alpha * tanh(norm(H) W_alpha), beta likewise.
  HcWeights weights(const torch::Tensor& H);

  bool dynamic, use_tanh;
  torch::Tensor static_beta, static_alpha;
  torch::Tensor dynamic_alpha_fn, dynamic_beta_fn, dynamic_alpha_scale, dynamic_beta_scale;
  Norm norm{nullptr};  // dynamic only
};

// Builds the mixer of residual.kind ("hc" or "mhc") for sublayer k.
std::shared_ptr<ResidualMixerImpl> make_mixer(const config::RunConfig& cfg, int64_t k);

// Assembles [[0, beta], [alpha]] from beta (n) and alpha (n, c), row 0
// padded with the c - n leading zeros: HC's (n+1, n+1) with c = n+1,
// Frac-Connections' (m+1, 2m) with c = 2m (frac.h). Float32, detached.
torch::Tensor hc_matrix(const torch::Tensor& beta, const torch::Tensor& alpha);

}  // namespace hcx::model
