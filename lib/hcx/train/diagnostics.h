// Diagnostics of a model during training (docs/method.md, "Measurements"): representation
// collapse, per-sublayer gradient norms and the learned HC connections.
// Each function writes its rows to a MetricSink. Internal to train/.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "hcx/model/gpt.h"
#include "hcx/metrics/sink.h"

namespace hcx::train {

using metrics::MatrixRow;
using metrics::MetricSink;

// Sublayer k (0 .. 2L-1) that a parameter name belongs to: block i's
// attention side (ln_1, attn, hc_attn) is 2i, its FFN side 2i+1; -1 for
// parameters outside the blocks (wte, ln_f, lm_head).
int64_t sublayer_of(const std::string& param_name);

// layer_stats rows "grad_norm" per sublayer k: the L2 norm of the gradients
// of k's parameters, as they are after backward (before clipping). Call
// between backward and the optimizer step.
void record_grad_norms(model::GptImpl& model, int64_t step, MetricSink& sink);

// One traced forward of `probe` (B, T) on `device`, then:
//  - collapse: per token, the cosine similarity between the inputs h0 of
//    sublayers k and k+1; rows "cos/median", "cos/p5", "cos/p95" at layer k
//    for k = 0 .. 2L-2;
//  - hc and mhc: each sublayer's effective matrix averaged over the probe's
//    tokens (matrix rows "hc", layer k, sublayer "attn"/"ffn"), the unfolded
//    cross-layer matrix ("unfolded", layer -1, sublayer "model") and the
//    composite stream mixing ("composite", layer -1), whose gain goes to the
//    sink as scalars "hc/gain_row" and "hc/gain_col" at `step`;
//  - frac: each sublayer's FC matrix averaged over the tokens ("frac",
//    layer k, (m+1) x 2m, frac.h); denseformer: the DWA weights over depth
//    ("dwa", layer -1, L x (L+1), model::dwa_matrix); laurel: the gains of
//    every sublayer ("laurel", layer -1, 2 x 2L, model::laurel_gains); mudd:
//    the DA weights after block i averaged over the tokens ("mudd", layer
//    2i+1, C x S: rows Q, K, V, R, column j block output j, mudd.h).
// Runs under NoGradGuard.
void record_probe_diagnostics(model::GptImpl& model, const at::Tensor& probe, const at::Device& device, int64_t step,
                              MetricSink& sink);

// Cosine similarity per token between a and b, both (B, T, d): B*T values.
std::vector<double> token_cosines(const at::Tensor& a, const at::Tensor& b);

}  // namespace hcx::train
