// MUDDFormer, multiway dynamic dense connections (Xiao et al., arXiv
// 2502.12170, ICML 2025; docs/method.md, "MUDDFormer"), residual.kind "mudd".
// Shapes: B batch, T time, d = d_model; X_0 the embedding, X_{i+1} the output
// of block i (0-based); after block i, S = i+2 outputs exist.
//
// After block i a dynamic dense aggregation (DA) computes, per token, from
// the block's own output,
//   dw = GELU(RMSNorm(X_{i+1}) W1) W2 + a        (B, T, C, S)    RMSNorm without gain
//   Xbar^c = sum_j dw[..., c, j] X_j              c = Q, K, V, R  (B, T, d) each
// and block i+1 reads them: X_A = attn(ln_1(Xbar^Q), ln_1k(Xbar^K), ln_1v(Xbar^V)) + Xbar^R,
// X_{i+2} = X_A + mlp(ln_2(X_A)). The last DA has one way (C = 1, R), whose
// output goes to ln_f. W1 (d, K), W2 (K, C S), a (C, S); K = C S, and 4 S for
// the last DA (the paper's hidden sizes; its code's rounding of K up to a
// multiple of 64 plus 64 is not copied, so counts are the paper's formula).
//
// Init (the paper's): W1 ~ normal(0, 1/sqrt(d)) from the parameter's own
// generator (param_seed of its name, so every shared weight stays paired with
// Pre-Norm's), W2 = 0, a one-hot on j = i+1: every Xbar^c = X_{i+1}, the
// Pre-Norm function up to the rounding of attention's three q/k/v GEMMs
// against Pre-Norm's one (tested within 1e-6). Not built: PrePostDANorm and the
// FFN-width re-allocation (both change the function at init).
// Parameters: w1, w2 decay (dynamic projections); a does not; the extra
// norms ln_1k, ln_1v carry gains with rmsnorm (+2d per block).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include "hcx/config/run_config.h"
#include "hcx/model/param_specs.h"

namespace hcx::model {

class MuddImpl : public torch::nn::Module {
 public:
  // The DA after block i (0-based) of the model `cfg` describes.
  MuddImpl(const config::RunConfig& cfg, int64_t i);

  // outputs: X_0 .. X_{i+1}, each (B, T, d) -> the C streams Xbar^c (B, T, d),
  // float32: Q, K, V, R, or only R after the last block. With `weights_out`,
  // also the weights dw averaged over tokens, (C, S) float32 detached.
  std::vector<torch::Tensor> forward(const std::vector<torch::Tensor>& outputs, torch::Tensor* weights_out = nullptr);

  int64_t ways, sources, hidden;  // C, S, K
  double eps;
  torch::Tensor w1, w2, a;
};
TORCH_MODULE(Mudd);

// Σ_j weight(j) xs[j] over the S = xs.size() sources, summed with the last
// (the block's own output) first and then j = 0, 1, ...: at init (its weight
// 1, the others 0) every further term adds an exact 0, so the sum is xs.back()
// bit for bit. The depth-weighted averages of both MUDD (per-token weights)
// and DenseFormer (one weight per source, gpt.cpp) use it.
torch::Tensor own_output_first_sum(const std::vector<torch::Tensor>& xs,
                                   const std::function<torch::Tensor(size_t)>& weight);

}  // namespace hcx::model
