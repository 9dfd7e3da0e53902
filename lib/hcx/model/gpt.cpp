// The transformer LM and its residual variants (see gpt.h). Reads top to
// bottom: Block, then Gpt, then initialisation and parameter listing.
// Shapes: B batch, T time, d = d_model, V vocab, n streams (hc, mhc).
#include "hcx/model/gpt.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/types.h>

#include "hcx/error.h"

namespace hcx::model {
namespace {

ResidualKind to_kind(const std::string& s) {
  if (s == "post_norm") return ResidualKind::kPostNorm;
  if (s == "hc") return ResidualKind::kHc;
  if (s == "mhc") return ResidualKind::kMhc;
  return ResidualKind::kPreNorm;  // validate() has rejected anything else
}

bool has_mixers(ResidualKind k) { return k == ResidualKind::kHc || k == ResidualKind::kMhc; }

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

// ---------------------------------------------------------------------------- Block

BlockImpl::BlockImpl(const config::RunConfig& cfg, int64_t i) : kind(to_kind(cfg.residual.kind)) {
  // Registration order is the naming contract of param_specs.cpp.
  ln_1 = register_module("ln_1", make_norm(cfg.model, cfg.model.d_model));
  attn = register_module("attn", Attention(cfg.model));
  ln_2 = register_module("ln_2", make_norm(cfg.model, cfg.model.d_model));
  mlp = register_module("mlp", Mlp(cfg.model));
  if (has_mixers(kind)) {
    hc_attn = register_module("hc_attn", make_mixer(cfg, 2 * i));
    hc_ffn = register_module("hc_ffn", make_mixer(cfg, 2 * i + 1));
  }
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x, ForwardTrace* trace) {
  auto record = [trace](const torch::Tensor& h0) {
    if (trace != nullptr) trace->sublayer_inputs.push_back(trace->detach ? h0.detach() : h0);
  };
  auto attn_f = [&](const torch::Tensor& h0) { record(h0); return attn(ln_1(h0)); };  // (B, T, d)
  auto ffn_f = [&](const torch::Tensor& h0) { record(h0); return mlp(ln_2(h0)); };    // (B, T, d)
  switch (kind) {
    case ResidualKind::kPreNorm: {
      const torch::Tensor y = x + attn_f(x);
      return y + ffn_f(y);
    }
    case ResidualKind::kPostNorm: {
      record(x);
      const torch::Tensor y = ln_1(x + attn(x));
      record(y);
      return ln_2(y + mlp(y));
    }
    case ResidualKind::kHc:
    case ResidualKind::kMhc: {
      torch::Tensor m_attn, m_ffn;  // (n+1, n+1) when traced
      const torch::Tensor H = hc_attn->forward(x, attn_f, trace ? &m_attn : nullptr);  // (B, T, n, d)
      const torch::Tensor H2 = hc_ffn->forward(H, ffn_f, trace ? &m_ffn : nullptr);     // (B, T, n, d)
      if (trace != nullptr) {
        trace->hc_matrices.push_back(m_attn);
        trace->hc_matrices.push_back(m_ffn);
      }
      return H2;
    }
  }
  throw std::logic_error("BlockImpl::forward: unknown residual kind");
}

// ---------------------------------------------------------------------------- Gpt

GptImpl::GptImpl(const config::RunConfig& cfg) : cfg_(cfg), kind_(to_kind(cfg.residual.kind)) {
  const auto errors = config::validate(cfg);
  if (!errors.empty()) {
    std::string msg = "invalid model config:";
    for (const auto& e : errors) msg += "\n  " + e;
    throw bad_input(msg);
  }
  const auto& m = cfg.model;
  // Registration order is the naming contract of param_specs.cpp.
  wte = register_module("wte", Embedding(m.vocab_size, m.d_model));
  h = register_module("h", torch::nn::ModuleList());
  for (int64_t i = 0; i < m.n_layers; ++i) h->push_back(Block(cfg, i));
  if (kind_ != ResidualKind::kPostNorm) ln_f = register_module("ln_f", make_norm(m, m.d_model));
  if (!m.tie_embeddings) lm_head = register_module("lm_head", Linear(m.d_model, m.vocab_size));
  init_shared_weights();
}

torch::Tensor GptImpl::forward(const torch::Tensor& idx, ForwardTrace* trace) {
  const int64_t B = idx.size(0), T = idx.size(1), n = cfg_.residual.n, d = cfg_.model.d_model;
  if (T > cfg_.model.seq_len) {
    throw bad_input("model.seq_len: the model was built for sequences of at most " +
                    std::to_string(cfg_.model.seq_len) + " tokens, got " + std::to_string(T));
  }
  if (trace != nullptr) {
    trace->sublayer_inputs.clear();
    trace->hc_matrices.clear();
  }
  torch::Tensor x = wte(idx);                                 // (B, T, d)
  if (has_mixers(kind_)) x = x.unsqueeze(2).expand({B, T, n, d});  // (B, T, n, d): copied into every stream
  for (const auto& block : *h) x = block->as<BlockImpl>()->forward(x, trace);
  if (has_mixers(kind_)) x = cfg_.residual.reduce == "mean" ? x.mean(2) : x.sum(2);  // (B, T, d)
  if (ln_f) x = ln_f(x);
  return lm_head ? lm_head(x) : at::linear(x, wte->weight);  // (B, T, V)
}

torch::Tensor GptImpl::loss(const torch::Tensor& idx, const torch::Tensor& targets) {
  const torch::Tensor logits = forward(idx);                  // (B, T, V)
  return at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}).to(at::kFloat), targets.reshape({-1}));
}

ResidualMixerImpl* GptImpl::mixer(int64_t k) {
  if (k < 0 || k >= n_sublayers()) {
    throw std::out_of_range("GptImpl::mixer: sublayer " + std::to_string(k) + " of " +
                            std::to_string(n_sublayers()));
  }
  auto* block = (*h)[k / 2]->as<BlockImpl>();
  return (k % 2 == 0 ? block->hc_attn : block->hc_ffn).get();
}

// ---------------------------------------------------------------------------- init and parameters

uint64_t param_seed(int64_t seed, const std::string& name) {
  uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a of the name
  for (unsigned char c : name) hash = (hash ^ c) * 0x100000001b3ULL;
  return splitmix64(splitmix64(static_cast<uint64_t>(seed)) ^ hash);
}

void GptImpl::init_shared_weights() {
  const at::NoGradGuard no_grad;
  const auto& m = cfg_.model;
  double out_std = m.init_std / std::sqrt(2.0 * double(m.n_layers));  // GPT-2: residual-path projections
  if (has_mixers(kind_) && cfg_.residual.scale_out_init) out_std /= std::sqrt(double(cfg_.residual.n));
  for (auto& item : named_parameters(/*recurse=*/true)) {
    const std::string& name = item.key();
    torch::Tensor& p = item.value();
    const ParamGroup group = classify_param(name).group;
    if (group == ParamGroup::kNorm && !is_hc_param(name)) {
      p.fill_(1.0);
    } else if (group == ParamGroup::kEmbedding || group == ParamGroup::kAttention || group == ParamGroup::kFfn) {
      const std::string suffix = ".c_proj.weight";
      const bool out_proj = name.size() >= suffix.size() &&
                            name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
      at::Generator gen = at::detail::createCPUGenerator(param_seed(cfg_.seed, name));
      p.normal_(0.0, out_proj ? out_std : m.init_std, gen);
    }
    // HC/mHC parameters keep the deterministic values their constructors set.
  }
}

std::vector<NamedParam> named_params(GptImpl& model) {
  std::vector<NamedParam> out;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    const ParamClass c = classify_param(item.key());
    out.push_back({item.key(), item.value(), c.group, c.decays, item.value().requires_grad()});
  }
  return out;
}

Gpt make_model(const config::RunConfig& cfg) { return Gpt(cfg); }

}  // namespace hcx::model
