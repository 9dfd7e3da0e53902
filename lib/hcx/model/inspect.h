// Analytic size and cost of a model config, without LibTorch (`hcx inspect`):
// parameter counts (total and by group), forward FLOPs per token, the
// overhead of the residual variant (HC, mHC, Frac, LAuReL, DenseFormer), and
// an activation-memory estimate per token.
// The parameter counts come from param_specs(), so they equal the real
// module's (tested for many configs).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "hcx/config/run_config.h"
#include "hcx/model/param_specs.h"

namespace hcx::model {

struct ModelStats {
  // ---- parameters
  int64_t params_total = 0;
  int64_t params_trainable = 0;  // total minus frozen (freeze_width / freeze_beta)
  int64_t params_active = 0;     // used per token: total minus the (E - k) idle experts of every MoE layer
  std::array<int64_t, kNumParamGroups> params_by_group{};  // indexed by ParamGroup
  int64_t hc_params = 0;               // every residual-variant parameter (is_hc_param), incl. DHC norm gains
  int64_t hc_params_per_sublayer = 0;  // mixer_params(cfg); 0 for denseformer (per block)
  double hc_params_pct = 0;            // 100 * hc_params / (params_total - hc_params)
  int64_t ffn_hidden = 0;

  // ---- FLOPs per token, forward pass. Convention: 2 FLOPs per multiply-add,
  // matmul-like work only (projections, attention scores and values, the
  // unembedding, HC reads / writes / stream mixing / dynamic projections);
  // elementwise work (norms, activations, softmax, RoPE, residual adds,
  // tanh/sigmoid, Sinkhorn) is not counted. Attention at the full
  // model.seq_len context T for every token (no causal halving):
  //   attention 8d^2 + 4Td, FFN 6dh (swiglu) | 16d^2 (gelu) | 2dE + 6 k d h_e
  //   (moe: the router and the k active experts; no gather/scatter), unembedding 2dV,
  //   per mixer: SHC 2nd(n+2), DHC 4nd(n+2), mHC 2nd(n+2)(n+1), SFC 2d(2m+1),
  //   DFC 4d(2m+1), LAuReL 4d (+ 4rd for RW+LR); per DWA of c sources 2cd;
  //   per MUDD DA 2(dK + K C S + C S d) (mudd_shape).
  // Training costs about 3x the forward.
  double flops_per_token = 0;
  double hc_flops_per_token = 0;
  double hc_flops_pct = 0;  // 100 * hc_flops / (flops - hc_flops)

  // ---- activation memory per token, training, estimated. Assumptions: eager
  // LibTorch autograd without activation checkpointing or fused kernels; the
  // explicit attention path (scores and probabilities stored, nh*T each);
  // elements saved for backward per token:
  //   attention sublayer 8d + 2*nh*T, FFN 2d + 4h (swiglu) | 10d (gelu) | k(3d + 4h_e) + 2E (moe),
  //   per mixer: SHC (n+1)d, DHC (2n+1)d + 2n(n+2), mHC (2n+1)d + 2n(n+2) + 2 iters n^2,
  //   SFC 2d, DFC 3d + 2m(2m+1), LAuReL 2d (RW+LR 3d + r); per DWA of c sources cd;
  //   per MUDD DA K + C S + C d
  //   (the float32 streams and what the mixing saves), final 2d + 2V.
  // Bytes: 4 per element for float32 runs; for bfloat16 runs 2 per element of
  // sublayer and unembedding activations, 4 for the float32 streams and mixing.
  double activation_bytes_per_token = 0;
  double hc_activation_bytes_per_token = 0;
  double hc_activation_pct = 0;  // 100 * hc / (total - hc)
};

// The stats of the model `cfg` describes. Assumes a valid config (validate()).
ModelStats compute_stats(const config::RunConfig& cfg);

// A human-readable report: model summary, parameters by group, FLOPs, HC
// overhead and activation memory, aligned in columns, ending with a newline.
std::string stats_table(const config::RunConfig& cfg, const ModelStats& s);

// The same as JSON:
// {"model": {...}, "residual": {...},
//  "params": {"total", "trainable", "active", "embedding", "attention", "ffn", "norm",
//             "hc_static", "hc_dynamic", "hc_scale"},
//  "hc": {"params", "params_per_sublayer", "params_pct", "flops_per_token",
//         "flops_pct", "activation_bytes_per_token", "activation_pct"},
//  "flops_per_token", "activation_bytes_per_token", "ffn_hidden"}.
config::Json stats_json(const config::RunConfig& cfg, const ModelStats& s);

}  // namespace hcx::model
