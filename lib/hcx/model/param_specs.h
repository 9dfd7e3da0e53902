// The model's parameters as plain data: stable names, shapes, optimizer groups
// and weight-decay decisions, derived from a run config without LibTorch.
// This is the public naming contract of checkpoints, layer_stats rows and the
// optimizer; hcx::model::Gpt registers exactly these parameters (tested).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hcx/config/run_config.h"

namespace hcx::model {

// What a parameter is, for optimizer groups and for `hcx inspect`.
enum class ParamGroup {
  kEmbedding,  // wte.weight, lm_head.weight
  kAttention,  // h.i.attn.*
  kFfn,        // h.i.mlp.*
  kNorm,       // norm gains: h.i.ln_1/ln_2, ln_f, DHC's own norm (RMSNorm only)
  // The residual variants' own parameters ("HC" for short; frac uses HC's leaf names):
  kHcStatic,   // HC: static_beta (B), static_alpha ([A_m | A_r]); mHC: b_pre, b_post, b_res; DenseFormer: dwa_weights;
               // MUDD: a
  kHcDynamic,  // HC: dynamic_alpha_fn ([W_m | W_r]), dynamic_beta_fn (W_beta); mHC: phi_pre, phi_post, phi_res;
               // LAuReL: lr_a, lr_b (the low-rank map); MUDD: w1, w2
  kHcScale,    // HC: dynamic_alpha_scale (s_alpha), dynamic_beta_scale (s_beta); mHC: alpha_pre, alpha_post,
               // alpha_res; LAuReL: rw
};
inline constexpr int kNumParamGroups = 7;

// "embedding", "attention", "ffn", "norm", "hc_static", "hc_dynamic", "hc_scale".
const char* to_string(ParamGroup g);

// Group and weight-decay decision of a parameter name.
struct ParamClass {
  ParamGroup group;
  // Decay on matrices, embeddings and dynamic HC projections; none on norm
  // gains, HC scales and static HC matrices (docs/method.md, "Weight decay": decaying the static
  // B, A_m, A_r pulls them away from ones/identity and is reported to cause NaNs).
  bool decays;
};

// Classifies a parameter name as registered by Gpt (e.g. "h.3.hc_ffn.static_alpha").
// Throws std::logic_error for a name the model never registers.
ParamClass classify_param(const std::string& name);

// True for names that belong to a residual variant (h.i.hc_attn.* /
// h.i.hc_ffn.*, h.i.dwa_weights, h.i.mudd.*), the "HC overhead" of `hcx
// inspect`. MUDD's extra norms ln_1k, ln_1v are counted as norms.
bool is_hc_param(const std::string& name);

struct ParamSpec {
  std::string name;            // e.g. "h.0.attn.c_attn.weight"
  std::vector<int64_t> shape;  // e.g. {3 * d_model, d_model}
  ParamGroup group;
  bool decays;
  // False for parameters frozen by residual.freeze_width / freeze_beta: the
  // model registers them with requires_grad=false and the optimizer must not
  // receive them.
  bool trainable;
  int64_t numel() const;
};

// Every parameter of the model that `cfg` describes, in registration order.
// Naming (L = model.n_layers, i = 0..L-1, n = residual.n, d = model.d_model):
//   wte.weight                      (V, d)
//   h.i.dwa_weights                 (c)       denseformer, blocks with a DWA (dwa_sources); first in its block
//   h.i.ln_1.weight, h.i.ln_2.weight (d)      rmsnorm only
//   h.i.attn.c_attn.weight          (3d, d)   fused q, k, v
//   h.i.attn.c_proj.weight          (d, d)
//   h.i.mlp.c_fc.weight             (2h, d) swiglu (gate rows first, then up) | (4d, d) gelu
//   h.i.mlp.c_proj.weight           (d, h) swiglu | (d, 4d) gelu
//   moe instead (E = model.moe_experts, h_e = moe_hidden): h.i.mlp.router.weight (E, d),
//     h.i.mlp.c_fc.weight (E, 2h_e, d), h.i.mlp.c_proj.weight (E, d, h_e)
//   h.i.ln_1k.weight, h.i.ln_1v.weight (d) mudd and rmsnorm: the norms of the key and value inputs
//   h.i.mudd.w1 (d, K), h.i.mudd.w2 (K, C S), h.i.mudd.a (C, S)    mudd: the DA after block i (mudd_shape)
//   h.i.hc_attn.*, h.i.hc_ffn.*     residual mixers (hc, mhc, frac, laurel), see below
//   ln_f.weight                     (d)       rmsnorm and kind != post_norm
//   lm_head.weight                  (V, d)    tie_embeddings == false
// HC (per mixer): static_beta (n) = B; static_alpha (n, n+1) = [A_m | A_r];
//   dynamic: dynamic_alpha_fn (d, n+1) = [W_m | W_r],
//   dynamic_beta_fn (d) = W_beta, dynamic_alpha_scale (1) = s_alpha, dynamic_beta_scale (1) = s_beta,
//   norm.weight (d, rmsnorm only: the gain of the stream norm H̄ = norm(H)).
// mHC (per mixer): phi_pre (nd, n), phi_post (nd, n), phi_res (nd, n*n),
//   b_pre (n), b_post (n), b_res (n, n), alpha_pre (1), alpha_post (1), alpha_res (1).
// Frac (per mixer, m = n, e = d/m): static_beta (m) = B; static_alpha (m, 2m) = [Y | A];
//   dynamic: dynamic_alpha_fn (e, 2m) = W_a, dynamic_beta_fn (e) = w_b,
//   dynamic_alpha_scale, dynamic_beta_scale (1) (residual.dynamic_scale),
//   norm.weight (e, residual.dynamic_norm and rmsnorm).
// LAuReL (per mixer): rw (2); lr_a (d, r), lr_b (r, d) when r = residual.laurel_rank > 0.
// Frozen (trainable == false): residual.freeze_width freezes everything that
// produces the width connections A_m, A_r (HC: static_alpha, dynamic_alpha_fn,
// dynamic_alpha_scale; mHC: the pre and res parts), residual.freeze_beta
// everything that produces B (HC: static_beta, dynamic_beta_fn,
// dynamic_beta_scale; mHC: the post part), so a frozen map stays at its init
// for every token. The DHC stream norm's gain is frozen when both are.
// Assumes a valid config (config::validate() empty).
std::vector<ParamSpec> param_specs(const config::RunConfig& cfg);

// FFN hidden width: swiglu (and the dense FFN a moe replaces) round_up(ceil(8d/3), 8); gelu 4d.
int64_t ffn_hidden(const config::ModelConfig& m);

// The MoE expert hidden width h_e: model.moe_hidden, or ceil(h / k) of the swiglu hidden h when 0,
// so that the k active experts cost the dense FFN's FLOPs.
int64_t moe_hidden(const config::ModelConfig& m);

// Parameters of one residual mixer (one sublayer): 0 for pre_norm, post_norm
// and denseformer (whose weights are per block); SHC n(n+2); DHC d(n+2) +
// n(n+2) + 2 (+ d for the RMSNorm gain); mHC nd·n(n+2) + n(n+2) + 3;
// SFC m(2m+1); DFC m(2m+1) + e(2m+1) + 2 (+ e for the RMSNorm gain; without
// the 2 when residual.dynamic_scale is false); LAuReL 2 (+ 2rd for RW+LR).
int64_t mixer_params(const config::RunConfig& cfg);

// denseformer: the block outputs DWA_{i+1} averages after block i (0-based):
// j = 0..i+1 with j = i+1 (mod residual.dwa_dilation), ascending, when
// residual.dwa_period divides i+1; empty otherwise and for every other kind.
// X_0 is the embedding; i+1 itself is always last.
std::vector<int64_t> dwa_sources(const config::RunConfig& cfg, int64_t i);

// mudd: the DA after block i (0-based, mudd.h) has C ways (4: Q, K, V, R; 1,
// R only, after the last block), S = i+2 sources and hidden width K = C S
// (4 S after the last block).
struct MuddShape {
  int64_t ways, sources, hidden;
};
MuddShape mudd_shape(const config::RunConfig& cfg, int64_t i);

}  // namespace hcx::model
