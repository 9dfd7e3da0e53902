// The transformer's building blocks (docs/method.md, "The model"): bias-free linear and
// embedding, LayerNorm (no affine) / RMSNorm (affine gain), causal
// self-attention with RoPE, and the SwiGLU / GELU FFN.
// Shapes: B batch, T time, C = d_model, nh heads, hs = C / nh head size, h FFN hidden.
// Parameters are created uninitialised (torch::empty) and never touch
// LibTorch's global generator; Gpt initialises them from the run seed (gpt.cpp).
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "hcx/config/run_config.h"

namespace hcx::model {

// y = x W^T, no bias. weight: (out, in).
struct LinearImpl : torch::nn::Module {
  LinearImpl(int64_t in, int64_t out);
  torch::Tensor forward(const torch::Tensor& x);  // (..., in) -> (..., out)
  torch::Tensor weight;
};
TORCH_MODULE(Linear);

// Token embedding. weight: (V, C).
struct EmbeddingImpl : torch::nn::Module {
  EmbeddingImpl(int64_t vocab, int64_t dim);
  torch::Tensor forward(const torch::Tensor& idx);  // (B, T) int64 -> (B, T, C)
  torch::Tensor weight;
};
TORCH_MODULE(Embedding);

// Normalisation over the last dimension: LayerNorm without affine parameters
// (no parameters at all) or RMSNorm with a gain `weight` (dim,) initialised to
// ones. eps may be 0. The result is float32 whatever the input dtype (under
// autocast the residual stream stays float32).
struct NormImpl : torch::nn::Module {
  NormImpl(int64_t dim, bool rms, double eps);
  torch::Tensor forward(const torch::Tensor& x);  // (..., dim) -> (..., dim)
  bool rms;
  double eps;
  int64_t dim;
  torch::Tensor weight;  // RMSNorm gain; undefined for LayerNorm
};
TORCH_MODULE(Norm);

// Builds the model's norm (model.norm, model.norm_eps) over `dim`.
Norm make_norm(const config::ModelConfig& m, int64_t dim);

// cos and sin tables (T, hs), float32 on CPU: angle(t, i) = t * theta^(-2i/hs)
// for i < hs/2, repeated for the second half. Applied by rope() (fused.h).
std::pair<torch::Tensor, torch::Tensor> rope_tables(int64_t T, int64_t hs, double theta);

// softmax(q k^T / sqrt(hs) + causal mask) v for q, k, v: (B, nh, T, hs).
// With LibTorch >= 2.0 this is at::scaled_dot_product_attention(is_causal=true);
// with 1.x it is causal_attention_explicit(). Both compute the same function.
torch::Tensor causal_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v);

// The explicit masked-softmax path, compiled on every LibTorch (tests compare
// both paths with a naive reference).
torch::Tensor causal_attention_explicit(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v);

// Causal multi-head self-attention with RoPE: c_attn (3C, C) -> q, k, v;
// c_proj (C, C). forward: x (B, T, C) -> (B, T, C), T <= model.seq_len.
struct AttentionImpl : torch::nn::Module {
  explicit AttentionImpl(const config::ModelConfig& m);
  torch::Tensor forward(const torch::Tensor& x);
  // Queries, keys and values from separate inputs (MUDDFormer, mudd.h), each
  // (B, T, C) through its rows of c_attn; equal to forward(x) when all are x
  // up to the GEMM's rounding. (Not an overload of forward: ModuleHolder's
  // operator() needs a single forward.)
  torch::Tensor forward_qkv(const torch::Tensor& xq, const torch::Tensor& xk, const torch::Tensor& xv);
  Linear c_attn{nullptr}, c_proj{nullptr};
  int64_t n_heads, seq_len;

 private:
  // Attention of the projected q, k, v (B, T, C) each: RoPE, causal softmax, c_proj.
  torch::Tensor attend(const torch::Tensor& q_lin, const torch::Tensor& k_lin, const torch::Tensor& v_lin);

  torch::Tensor rope_cos_, rope_sin_;  // (seq_len, hs), moved to x's device on first use
};
TORCH_MODULE(Attention);

// FFN. swiglu: c_fc (2h, C) -> [gate | up], y = c_proj(silu(gate) * up);
// gelu: c_fc (4C, C), y = c_proj(gelu(c_fc(x))). x (B, T, C) -> (B, T, C).
struct MlpImpl : torch::nn::Module {
  explicit MlpImpl(const config::ModelConfig& m);
  torch::Tensor forward(const torch::Tensor& x);
  Linear c_fc{nullptr}, c_proj{nullptr};
  bool swiglu;
};
TORCH_MODULE(Mlp);

}  // namespace hcx::model
