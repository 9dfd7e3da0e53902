// The transformer's building blocks (see layers.h for the contracts).
// Shapes: B batch, T time, C = d_model, nh heads, hs = C / nh, h FFN hidden.
#include "hcx/model/layers.h"

#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include <ATen/ATen.h>
#include <torch/types.h>
#include <torch/version.h>

#include "hcx/error.h"
#include "hcx/model/fused.h"
#include "hcx/model/param_specs.h"

namespace hcx::model {

LinearImpl::LinearImpl(int64_t in, int64_t out) {
  weight = register_parameter("weight", torch::empty({out, in}));
}

torch::Tensor LinearImpl::forward(const torch::Tensor& x) { return at::linear(x, weight); }

EmbeddingImpl::EmbeddingImpl(int64_t vocab, int64_t dim) {
  weight = register_parameter("weight", torch::empty({vocab, dim}));
}

torch::Tensor EmbeddingImpl::forward(const torch::Tensor& idx) { return at::embedding(weight, idx); }

NormImpl::NormImpl(int64_t dim_, bool rms_, double eps_) : rms(rms_), eps(eps_), dim(dim_) {
  if (rms) weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor NormImpl::forward(const torch::Tensor& x) {
  const torch::Tensor xf = x.to(at::kFloat);  // explicit: norms run in float32 under autocast
  if (!rms) return at::layer_norm(xf, {dim}, /*weight=*/{}, /*bias=*/{}, eps);
  const torch::Tensor inv_rms = at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);  // (..., 1)
  return xf * inv_rms * weight.to(at::kFloat);
}

Norm make_norm(const config::ModelConfig& m, int64_t dim) { return Norm(dim, m.norm == "rmsnorm", m.norm_eps); }

std::pair<torch::Tensor, torch::Tensor> rope_tables(int64_t T, int64_t hs, double theta) {
  const auto opts = at::TensorOptions().dtype(at::kDouble);
  const torch::Tensor i = at::arange(hs / 2, opts);                    // (hs/2)
  const torch::Tensor inv_freq = at::pow(theta, -2.0 * i / double(hs));  // (hs/2)
  const torch::Tensor t = at::arange(T, opts);                         // (T)
  torch::Tensor angle = at::outer(t, inv_freq);                        // (T, hs/2)
  angle = at::cat({angle, angle}, -1);                                 // (T, hs)
  return {angle.cos().to(at::kFloat), angle.sin().to(at::kFloat)};
}

torch::Tensor causal_attention_explicit(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  const int64_t B = q.size(0), nh = q.size(1), T = q.size(2), hs = q.size(3);
  // The causal mask as an additive -inf above the diagonal, added inside the
  // batched GEMM together with the 1/sqrt(hs) scale: one op instead of a
  // scale, a mask and a masked_fill (and their backward passes).
  const torch::Tensor mask = at::full({T, T}, -std::numeric_limits<double>::infinity(), q.options()).triu(1);
  torch::Tensor att = at::baddbmm(mask, q.reshape({B * nh, T, hs}), k.reshape({B * nh, T, hs}).transpose(1, 2),
                                  /*beta=*/1.0, /*alpha=*/1.0 / std::sqrt(double(hs)));  // (B*nh, T, T)
  // At least float32 (bf16 scores under autocast, on every device); float64 stays float64.
  att = at::softmax(att, -1, at::promote_types(att.scalar_type(), at::kFloat));
  return at::bmm(att.to(v.dtype()), v.reshape({B * nh, T, hs})).view({B, nh, T, hs});
}

torch::Tensor causal_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
#if TORCH_VERSION_MAJOR >= 2
  // Flash / memory-efficient kernels where the device has them; scale 1/sqrt(hs) by default.
  return at::scaled_dot_product_attention(q, k, v, /*attn_mask=*/{}, /*dropout_p=*/0.0, /*is_causal=*/true);
#else
  return causal_attention_explicit(q, k, v);
#endif
}

AttentionImpl::AttentionImpl(const config::ModelConfig& m) : n_heads(m.n_heads), seq_len(m.seq_len) {
  c_attn = register_module("c_attn", Linear(m.d_model, 3 * m.d_model));
  c_proj = register_module("c_proj", Linear(m.d_model, m.d_model));
  std::tie(rope_cos_, rope_sin_) = rope_tables(m.seq_len, m.d_model / m.n_heads, m.rope_theta);
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x) {
  const int64_t C = x.size(2);
  const auto qkv = c_attn(x).split(C, -1);  // 3 x (B, T, C)
  return attend(qkv[0], qkv[1], qkv[2]);
}

torch::Tensor AttentionImpl::forward_qkv(const torch::Tensor& xq, const torch::Tensor& xk, const torch::Tensor& xv) {
  const int64_t C = xq.size(2);
  const auto w = c_attn->weight.split(C, 0);  // 3 x (C, C): the q, k and v rows of c_attn
  return attend(at::linear(xq, w[0]), at::linear(xk, w[1]), at::linear(xv, w[2]));
}

torch::Tensor AttentionImpl::attend(const torch::Tensor& q_lin, const torch::Tensor& k_lin, const torch::Tensor& v_lin) {
  const int64_t B = q_lin.size(0), T = q_lin.size(1), C = q_lin.size(2), hs = C / n_heads;
  if (T > seq_len) {
    throw bad_input("model.seq_len: the model was built for sequences of at most " + std::to_string(seq_len) +
                    " tokens, got " + std::to_string(T));
  }
  if (rope_cos_.device() != q_lin.device()) {  // lazily follow the model to its device
    rope_cos_ = rope_cos_.to(q_lin.device());
    rope_sin_ = rope_sin_.to(q_lin.device());
  }
  auto heads = [&](const torch::Tensor& t) {
    return t.reshape({B, T, n_heads, hs}).transpose(1, 2);       // (B, nh, T, hs)
  };
  const torch::Tensor q = rope(heads(q_lin), rope_cos_, rope_sin_);
  const torch::Tensor k = rope(heads(k_lin), rope_cos_, rope_sin_);
  const torch::Tensor y = causal_attention(q, k, heads(v_lin));  // (B, nh, T, hs)
  return c_proj(y.transpose(1, 2).reshape({B, T, C}));           // (B, T, C)
}

MlpImpl::MlpImpl(const config::ModelConfig& m) : swiglu(m.ffn == "swiglu") {
  const int64_t h = ffn_hidden(m);
  c_fc = register_module("c_fc", Linear(m.d_model, swiglu ? 2 * h : h));
  c_proj = register_module("c_proj", Linear(h, m.d_model));
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
  const torch::Tensor u = c_fc(x);  // (B, T, 2h) swiglu | (B, T, h) gelu
  if (!swiglu) return c_proj(at::gelu(u));
  return c_proj(model::swiglu(u));  // silu(gate) * up: (B, T, h) (fused.h; the member swiglu is the flag)
}

}  // namespace hcx::model
