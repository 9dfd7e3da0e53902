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

// model.ffn "moe": the routing of one optimizer step, summed over its
// micro-batches (add() after each forward), then written by write() as
// layer_stats rows at the FFN sublayer k = 2i+1 of each block i:
//   moe/lb, moe/z          the unscaled aux losses (moe.h; lb 1 = balanced), mean over micro-batches
//   moe/load/<e>           f_e, the fraction of the step's assignments expert e got
//   moe/load_cv            std/mean of the counts c_e over experts (population std; 0 = balanced)
//   moe/max_load           E max_e f_e (1 = balanced, E = every assignment to one expert)
//   moe/dead               experts with no assignment in the step
//   moe/entropy            mean router entropy (nats; ln E = uniform)
//   moe/selected_mass      mean sum_s w_ts of the chosen experts (before moe_norm_topk)
//   moe/max_logit          max |z| over the step
//   moe/drop_rate          assignments not computed / assignments (0: dropless)
// and scalars train/moe_lb, train/moe_z (means over layers) and
// train/aux_loss (the weighted sum that was trained, GptImpl::moe_aux_loss).
class MoeStepLog {
 public:
  void add(const model::GptImpl& model);
  // Writes the rows of `step` and starts over. Does nothing without an add().
  void write(int64_t step, MetricSink& sink);

 private:
  struct Layer {
    at::Tensor counts;  // (E) int64, CPU
    double lb = 0, z = 0, entropy = 0, selected = 0, max_logit = 0;
    int64_t assignments = 0, computed = 0;
  };
  std::vector<Layer> layers_;
  double aux_ = 0;
  int64_t micro_batches_ = 0;
};

// Cosine similarity per token between a and b, both (B, T, d): B*T values.
std::vector<double> token_cosines(const at::Tensor& a, const at::Tensor& b);

}  // namespace hcx::train
