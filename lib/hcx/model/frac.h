// Frac-Connections (Zhu et al., arXiv 2503.14125; docs/method.md, "Frac-Connections"):
// instead of widening the residual stream into n copies as HC does, the
// stream x (B, T, d) is split into m fractions of e = d/m features each
// (m = residual.n, the frac rate), F = x.view(B, T, m, e), and each sublayer
// reads, writes and mixes the fractions through a learned (m+1) x 2m matrix
//   FC = [[0_{1xm}, B],      B (1 x m):  write weights, fraction-wise
//         [Y,       A]]      Y (m x m):  read mix;  A (m x m): residual mix
// Per sublayer and token:
//   mix_j = sum_i [Y | A][i][j] f_i             j = 0..2m-1     (B, T, 2m, e)
//   h0 = concat(mix_0 .. mix_{m-1})              (B, T, d)       the sublayer input
//   y = F(h0)                                    (B, T, d)       F includes its own pre-norm
//   fraction j of the output = B_j y_j + mix_{m+j}                (B, T, d)
// The write is fraction-wise (diag(B), Algorithm 1 of the paper), not an
// outer product. The stream stays d wide: no expansion before the first block
// and no stream sum before the final norm.
//
// Dynamic FC (residual.dynamic): row i of the weights depends on fraction i only,
//   f̄_i = norm_e(f_i)                      (residual.dynamic_norm; model.norm over e)
//   [Y | A]_i = s_a tanh(f̄_i W_a) + [Y | A]_i     W_a (e, 2m), init 0
//   B_i      = s_b tanh(f̄_i w_b) + B_i            w_b (e),     init 0
// with one scale s_a shared by Y and A, s_b for B (init 0.01; residual.dynamic_scale
// false: no scales, the tanh term is added as it is) and tanh switchable (residual.tanh).
//
// Init B = 1, Y = A = I: h0 = x and the output is y + x, the Pre-Norm function
// bit for bit (multiplying by an identity and adding 0 are exact), for static
// and dynamic FC alike. Initialisation draws no random numbers.
//
// Parameters (param_specs.h), leaf names as HC's: static_beta (m) = B;
// static_alpha (m, 2m) = [Y | A]; dynamic: dynamic_alpha_fn (e, 2m) = W_a,
// dynamic_beta_fn (e) = w_b, dynamic_alpha_scale, dynamic_beta_scale (1),
// norm.weight (e, rmsnorm only). Per sublayer: SFC m(2m+1); DFC
// m(2m+1) + e(2m+1) + 2 (+ e for the RMSNorm gain), the paper's Eqs. 16 and 19.
// residual.freeze_width freezes Y, A, W_a, s_a; freeze_beta B, w_b, s_b.
//
// Public implementations to distrust: lucidrains/hyper-connections with
// num_fracs > 1 (v0.2.0 to v0.4.9) puts every read weight on fraction 0 and
// sums all branch-output fractions into each output fraction, so it does not
// start as Pre-Norm (tests/model/frac_test.cpp pins that hcx moves fractions
// where [Y | A] says).
//
// Autocast: as HC (hyper_connections.h), the mixing runs in float32 and the
// returned stream is float32; hcx keeps the stream in float32 where the
// paper's code stores it in bfloat16.
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include "hcx/config/run_config.h"
#include "hcx/model/hyper_connections.h"
#include "hcx/model/layers.h"

namespace hcx::model {

// The weights in the FC matrix's layout: alpha = [Y | A], beta = B; static
// alpha (m, 2m), beta (m); dynamic alpha (B, T, m, 2m), beta (B, T, m).
using FracWeights = HcWeights;

// The Frac-Connection of one sublayer (residual.kind "frac").
class FracConnectionImpl : public torch::nn::Module {
 public:
  explicit FracConnectionImpl(const config::RunConfig& cfg);

  // Runs sublayer `f` with this connection: x (B, T, d), any floating dtype
  // -> (B, T, d) float32. When `matrix_out` is non-null it receives the FC
  // matrix averaged over the B*T tokens: (m+1, 2m) float32, detached.
  torch::Tensor forward(const torch::Tensor& x, const Sublayer& f, torch::Tensor* matrix_out = nullptr);

  // The weights for a float32 stream x (B, T, d), with autograd.
  FracWeights weights(const torch::Tensor& x);

  // The FC matrix with every dynamic term zero: (m+1, 2m) float32, detached.
  torch::Tensor static_matrix();
  // Sets B, Y and A from an (m+1, 2m) FC matrix (its [0][0..m-1] is ignored).
  // Throws std::invalid_argument on another shape.
  void set_static_matrix(const torch::Tensor& m);

  int64_t m() const { return m_; }

  bool dynamic, use_tanh, use_norm, use_scale;
  torch::Tensor static_beta, static_alpha;
  torch::Tensor dynamic_alpha_fn, dynamic_beta_fn, dynamic_alpha_scale, dynamic_beta_scale;
  Norm norm{nullptr};  // dynamic and residual.dynamic_norm only

 private:
  // weights() of the stream's fractions F (B, T, m, e) in the mixing dtype.
  FracWeights weights_of(const torch::Tensor& F);

  int64_t m_, e_;
};
TORCH_MODULE(FracConnection);

}  // namespace hcx::model
