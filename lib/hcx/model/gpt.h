// The decoder-only transformer LM of hcx (docs/method.md) with every residual
// variant: token embedding wte; L blocks of (attention, FFN), each sublayer
// wrapped by the configured residual connection; final norm; unembedding
// (tied to wte unless model.tie_embeddings is false).
//
// Shapes: B batch, T time (<= model.seq_len), d = model.d_model, V vocab,
// n = residual.n streams. Streams of hc/mhc are (B, T, n, d).
//
// Residual variants (one switch in BlockImpl::forward):
//   pre_norm   x <- x + F(norm(x)); final norm ln_f.
//   post_norm  x <- norm(x + F(x)) after every sublayer; NO final norm: the
//              stream is already normalised, so ln_f would be (up to eps) an
//              identity for LayerNorm and a redundant gain for RMSNorm.
//   hc, mhc    the embedding is copied into all n streams; each sublayer k runs
//              through its mixer (hyper_connections.h, mhc.h), which calls
//              F(norm(h0)); after the last sublayer the streams are reduced by
//              residual.reduce ("sum" or "mean") and then ln_f.
//   frac       the stream x (B, T, d) is split into m fractions that each
//              sublayer reads, writes and mixes (frac.h); then ln_f.
//   laurel     x <- a F(norm(x)) + b (x [+ x A B]) per sublayer (laurel.h); then ln_f.
//   denseformer Pre-Norm blocks; after block i the stream becomes a learned
//              average of the block outputs so far (depth-weighted average,
//              DWA; see BlockImpl::dwa_weights); then ln_f.
//   mudd       after block i, per-token weights over the block outputs so far
//              give block i+1 separate query, key, value and residual
//              inputs (mudd.h); the last block's R stream goes to ln_f.
//
// The FFN is dense (model.ffn swiglu, gelu) or a mixture of experts (moe,
// moe.h) under every residual variant alike.
//
// Initialisation (paired across variants): every shared parameter (embedding,
// attention, FFN and MoE router and experts, lm_head) is drawn from normal(0, model.init_std) by its own
// CPU generator seeded with param_seed(seed, name); output projections
// (*.c_proj.weight) use init_std / sqrt(2L), and additionally / sqrt(n) for
// hc/mhc when residual.scale_out_init. Norm gains start at 1; the residual
// variants' own parameters are set deterministically (no random numbers). So for one seed
// every shared parameter is bit-identical across residual variants, and
// building a model never draws from LibTorch's global generator.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include "hcx/config/run_config.h"
#include "hcx/model/frac.h"
#include "hcx/model/hyper_connections.h"
#include "hcx/model/laurel.h"
#include "hcx/model/layers.h"
#include "hcx/model/moe.h"
#include "hcx/model/mudd.h"
#include "hcx/model/param_specs.h"

namespace hcx::model {

enum class ResidualKind { kPreNorm, kPostNorm, kHc, kMhc, kFrac, kLaurel, kDenseFormer, kMudd };

// What a recorded forward collects: the diagnostics hook (docs/method.md, "Measurements":
// representation collapse and learned connections). Pass one to
// GptImpl::forward; it is cleared and filled, one entry per sublayer k =
// 0..2L-1 in order (attention of block i is 2i, its FFN 2i+1).
struct ForwardTrace {
  bool detach = true;  // store detached tensors (no autograd graph kept alive)
  // h0 of sublayer k, (B, T, d): the tensor fed to the sublayer's norm
  // (pre_norm: the stream x; post_norm: the stream x the sublayer reads, which
  // it takes un-normalised; hc: A_m^T H; mhc: H^pre H). Float32 for hc/mhc.
  std::vector<torch::Tensor> sublayer_inputs;
  // The effective matrix of sublayer k's mixer averaged over the B*T tokens of
  // this forward, (n+1, n+1) float32 detached (layout: hyper_connections.h).
  // Empty for every kind but hc and mhc.
  std::vector<torch::Tensor> hc_matrices;
  // frac: the FC matrix of sublayer k averaged over tokens, (m+1, 2m) float32
  // detached (frac.h). Empty for every other kind.
  std::vector<torch::Tensor> frac_matrices;
  // mudd: the DA weights after block i averaged over tokens, (C, S) float32
  // detached (mudd.h), one per block. Empty for every other kind.
  std::vector<torch::Tensor> mudd_weights;
};

// One transformer block: attention and FFN, each with its residual connection.
class BlockImpl : public torch::nn::Module {
 public:
  // Block i (0-based) of the model `cfg` describes.
  BlockImpl(const config::RunConfig& cfg, int64_t i);
  // x: (B, T, n, d) for hc/mhc, else (B, T, d); same shape out. For
  // denseformer this is X_{i+1} = Block_i(Y_i); GptImpl::forward applies the DWA.
  torch::Tensor forward(const torch::Tensor& x, ForwardTrace* trace = nullptr);

  // mudd: block i+1 of mudd.h on the streams (Xbar^Q, Xbar^K, Xbar^V, Xbar^R)
  // of the previous DA (all X_0 for block 0): X_A = attn(ln_1(Q), ln_1k(K),
  // ln_1v(V)) + R, then X_A + mlp(ln_2(X_A)). (B, T, d) each and out.
  torch::Tensor forward_mudd(const std::vector<torch::Tensor>& qkvr, ForwardTrace* trace = nullptr);

  // denseformer: Y_{i+1} = sum_s dwa_weights[s] X_{dwa_sources[s]} from the
  // block outputs X_0 (the embedding) .. X_{i+1} (this block's output).
  // Returns X_{i+1} unchanged for a block without a DWA.
  torch::Tensor average(const std::vector<torch::Tensor>& outputs);

  ResidualKind kind;
  Norm ln_1{nullptr}, ln_2{nullptr};
  Attention attn{nullptr};
  Mlp mlp{nullptr};                                    // the dense FFN (model.ffn swiglu, gelu)
  Moe moe{nullptr};                                    // model.ffn moe, registered as "mlp" instead
  std::shared_ptr<ResidualMixerImpl> hc_attn, hc_ffn;  // hc/mhc only
  FracConnection fc_attn{nullptr}, fc_ffn{nullptr};    // frac only (registered as hc_attn, hc_ffn)
  Laurel laurel_attn{nullptr}, laurel_ffn{nullptr};    // laurel only (registered as hc_attn, hc_ffn)
  Norm ln_1k{nullptr}, ln_1v{nullptr};                 // mudd only: the norms of the key and value inputs
  Mudd mudd{nullptr};                                  // mudd only: the DA after this block
  // denseformer, when (i+1) % residual.dwa_period == 0: the sources j of
  // DWA_{i+1}, 0 <= j <= i+1 with j = i+1 (mod residual.dwa_dilation),
  // ascending, and their weights (one each), init 1 for j = i+1 and 0 for
  // the rest, so Y_{i+1} = X_{i+1}: Pre-Norm exactly. Empty otherwise.
  std::vector<int64_t> dwa_sources;
  torch::Tensor dwa_weights;

 private:
  torch::Tensor feed_forward(const torch::Tensor& x);  // mlp or moe: (B, T, d) -> (B, T, d)
};
TORCH_MODULE(Block);

class GptImpl : public torch::nn::Module {
 public:
  // Builds and initialises the model of cfg.model and cfg.residual from
  // cfg.seed, on the CPU (move it with ->to(device)). Validates cfg first and
  // throws hcx::Error(kBadInput) listing every problem, each naming its dotted
  // key (e.g. "residual.n: expected an expansion rate from 1 to 8, got 0").
  explicit GptImpl(const config::RunConfig& cfg);

  // idx: (B, T) int64 token ids, T <= model.seq_len -> logits (B, T, V)
  // (float32; the autocast dtype under autocast). With a trace, also records
  // the sublayer inputs and mixer matrices (see ForwardTrace). Throws
  // Error(kBadInput) when T > model.seq_len.
  torch::Tensor forward(const torch::Tensor& idx, ForwardTrace* trace = nullptr);

  // Mean next-token cross-entropy of forward(idx) against targets (B, T),
  // computed in float32. A scalar tensor with autograd.
  torch::Tensor loss(const torch::Tensor& idx, const torch::Tensor& targets);

  // model.ffn "moe": the routing of every block's MoE layer in the latest
  // forward (moe.h), block order; empty for a dense FFN.
  std::vector<const MoeRouting*> moe_routing() const;
  // The auxiliary loss of the latest forward, a scalar with autograd to add
  // to the cross-entropy: moe_lb_weight L_LB + moe_z_weight L_RZ, where L_LB
  // is the mean over layers of each layer's L_LB (times k for
  // moe_lb_convention "hf") and L_RZ the mean over layers of each layer's
  // L_RZ ("sum" over layers for moe_z_reduce "sum"). Undefined for a dense FFN.
  torch::Tensor moe_aux_loss() const;

  int64_t n_sublayers() const { return 2 * cfg_.model.n_layers; }
  // The mixer of sublayer k (0 <= k < n_sublayers()), or nullptr for pre_norm/post_norm.
  ResidualMixerImpl* mixer(int64_t k);
  const config::RunConfig& config() const { return cfg_; }
  ResidualKind kind() const { return kind_; }

  Embedding wte{nullptr};
  torch::nn::ModuleList h{nullptr};  // Block per layer, keys h.0, h.1, ...
  Norm ln_f{nullptr};                // absent for post_norm
  Linear lm_head{nullptr};           // absent when tie_embeddings

 private:
  void init_shared_weights();

  config::RunConfig cfg_;
  ResidualKind kind_;
};
TORCH_MODULE(Gpt);

// The generator seed of a shared parameter: a hash of (run seed, name), so a
// parameter's initial values depend on nothing else.
uint64_t param_seed(int64_t seed, const std::string& name);

// A parameter with its classification (param_specs.h).
struct NamedParam {
  std::string name;
  torch::Tensor tensor;
  ParamGroup group;
  bool decays;
  bool trainable;  // == tensor.requires_grad(); frozen ones must not go to the optimizer
};

// Every parameter of `model`, in registration order (== param_specs(cfg)).
std::vector<NamedParam> named_params(GptImpl& model);

// Builds the model, as GptImpl's constructor.
Gpt make_model(const config::RunConfig& cfg);

// denseformer: the depth-weighted averages as one (L, L+1) matrix, float32
// detached: row i holds DWA_{i+1}'s weight of block output X_j in column j
// (0 for outputs it does not read; e_{i+1} for a block without a DWA, whose
// output passes on unchanged). Undefined for every other kind.
torch::Tensor dwa_matrix(GptImpl& model);

// laurel: the gains (a, b) of every sublayer as a (2, 2L) matrix, float32
// detached (row 0: a on the sublayer's output, row 1: b on the skip).
// Undefined for every other kind.
torch::Tensor laurel_gains(GptImpl& model);

}  // namespace hcx::model
