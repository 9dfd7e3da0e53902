// Fused CPU operations of the model: the per-token stream arithmetic of HC
// and mHC (reading and mixing the n streams before a sublayer, writing its
// output after), the normalised projection of dynamic HC and mHC weights,
// mHC's Sinkhorn-Knopp, and rotary position embedding. Each is one pass over the
// data forward and one backward, through a custom autograd function; each
// has a *_reference form built from plain ATen ops that computes the same
// function (the tests compare them, values and gradients).
//
//   read_streams(alpha, H):  alpha = [A_m | A_r] (.., n, r+n), H (B, T, n, d)
//     h0   = (sum_i A_m[i][j] H_i)_j          (B, T, r d)   the sublayer input, r reads concatenated
//     rest = (sum_i A_r[i][j] H_i)_j          (B, T, n, d)  the mixed streams
//     HC and mHC read once (r = 1: h0 is (B, T, d)); Frac-Connections read
//     each of their n fractions (r = n: h0 is the whole width)
//   write_streams(rest, beta, y):  beta (.., n), y (B, T, d) or (B, T, n d)
//     H'_j = rest_j + beta_j y                (B, T, n, d)  y (B, T, d): every stream gets it (HC)
//     H'_j = rest_j + beta_j y_j              (B, T, n, d)  y (B, T, n d): stream j gets slice j (FC)
//   rope(x, cos, sin): x (B, nh, T, hs), tables (>= T, hs) from rope_tables()
//     x * cos + rotate_half(x) * sin          (B, nh, T, hs) contiguous
//   swiglu(u): u (..., 2h) = [gate | up]
//     silu(gate) * up                         (..., h)   the SwiGLU FFN's activation; also on
//     bfloat16 (what c_fc gives under CPU autocast), computed in float and rounded once
//
//   normed_matmul(x, w, center, eps):  x (.., K), w (K, M)
//     norm(x) w                           (.., M)
//     norm(x) = (x - mean) / sqrt(var + eps)   center: LayerNorm without affine
//             = x / sqrt(mean(x^2) + eps)      otherwise: RMSNorm without gain
//     (a gain g folds into w: norm_g(x) w = norm(x) (g[:, None] w)); the
//     normalised x is never stored: one pass for the row statistics, one GEMM
//     on x, and in backward one GEMM per gradient and one pass over x.
//   sinkhorn_knopp(logits, iters):  logits (.., n, n)
//     exp of `iters` rounds of "rows, then columns, sum to 1", done in log
//     space (a row or column minus its logsumexp): no entry under- or
//     overflows. Backward recomputes the rounds per token.
//
// alpha and beta are per token ((B, T, n, r+n) and (B, T, n): dynamic HC, FC
// and mHC) or shared by every token ((n, r+n) and (n): static HC and FC).
//
// Why (bench/README.md): with plain ops a per-token alpha^T H runs as B*T
// separate tiny GEMMs on CPU (LibTorch 1.13), and splits, broadcasts and
// concatenations cost zero-filled gradient buffers, copies and reductions in
// backward. Every token (row) is computed on its own, so results do not
// depend on the thread count (at::parallel_for). CPU float32/float64 only
// (swiglu: and bfloat16); on any other device or dtype (CUDA, bfloat16) each
// op runs its reference form,
// and so does every op when the environment has HCX_FUSED=0 (for the
// benchmark's fused-or-not comparison, train_bench --unfused).
#pragma once

#include <cstdint>
#include <utility>

#include <ATen/core/Tensor.h>

namespace hcx::model {

// {h0, rest}
std::pair<at::Tensor, at::Tensor> read_streams(const at::Tensor& alpha, const at::Tensor& H);
at::Tensor write_streams(const at::Tensor& rest, const at::Tensor& beta, const at::Tensor& y);

// The same through at::matmul and broadcasting.
std::pair<at::Tensor, at::Tensor> read_streams_reference(const at::Tensor& alpha, const at::Tensor& H);
at::Tensor write_streams_reference(const at::Tensor& rest, const at::Tensor& beta, const at::Tensor& y);

// The weights of dynamic HC and mHC: the normalised projection and Sinkhorn-Knopp.
at::Tensor normed_matmul(const at::Tensor& x, const at::Tensor& w, bool center, double eps);
at::Tensor normed_matmul_reference(const at::Tensor& x, const at::Tensor& w, bool center, double eps);
at::Tensor sinkhorn_knopp(const at::Tensor& logits, int64_t iters);
at::Tensor sinkhorn_knopp_reference(const at::Tensor& logits, int64_t iters);

// Rotary position embedding (rotate-half / GPT-NeoX layout) at positions 0..T-1.
at::Tensor rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);
at::Tensor rope_reference(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

// SwiGLU's activation: silu of the first half of the last dimension times the second half.
at::Tensor swiglu(const at::Tensor& u);
at::Tensor swiglu_reference(const at::Tensor& u);

// Whether the ops above run fused (else their reference forms). Starts as the
// environment says (HCX_FUSED=0: no); the tests compare whole modules both ways.
void set_fused_ops(bool enabled);
bool fused_ops();

}  // namespace hcx::model
