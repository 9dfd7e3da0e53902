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
  if (s == "frac") return ResidualKind::kFrac;
  if (s == "laurel") return ResidualKind::kLaurel;
  if (s == "denseformer") return ResidualKind::kDenseFormer;
  if (s == "mudd") return ResidualKind::kMudd;
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
  if (cfg.model.ffn == "moe") {
    moe = register_module("mlp", Moe(cfg.model));
  } else {
    mlp = register_module("mlp", Mlp(cfg.model));
  }
  if (has_mixers(kind)) {
    hc_attn = register_module("hc_attn", make_mixer(cfg, 2 * i));
    hc_ffn = register_module("hc_ffn", make_mixer(cfg, 2 * i + 1));
  } else if (kind == ResidualKind::kFrac) {
    fc_attn = register_module("hc_attn", FracConnection(cfg));
    fc_ffn = register_module("hc_ffn", FracConnection(cfg));
  } else if (kind == ResidualKind::kLaurel) {
    laurel_attn = register_module("hc_attn", Laurel(cfg));
    laurel_ffn = register_module("hc_ffn", Laurel(cfg));
  } else if (kind == ResidualKind::kMudd) {
    ln_1k = register_module("ln_1k", make_norm(cfg.model, cfg.model.d_model));
    ln_1v = register_module("ln_1v", make_norm(cfg.model, cfg.model.d_model));
    mudd = register_module("mudd", Mudd(cfg, i));
  } else if (kind == ResidualKind::kDenseFormer) {
    dwa_sources = model::dwa_sources(cfg, i);
    if (!dwa_sources.empty()) {
      torch::Tensor w0 = torch::zeros({int64_t(dwa_sources.size())});
      w0[-1] = 1.0;  // the block's own output
      dwa_weights = register_parameter("dwa_weights", w0);
    }
  }
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x, ForwardTrace* trace) {
  auto record = [trace](const torch::Tensor& h0) {
    if (trace != nullptr) trace->sublayer_inputs.push_back(trace->detach ? h0.detach() : h0);
  };
  auto attn_f = [&](const torch::Tensor& h0) { record(h0); return attn(ln_1(h0)); };  // (B, T, d)
  auto ffn_f = [&](const torch::Tensor& h0) {
    record(h0);
    return feed_forward(ln_2(h0));
  };  // (B, T, d)
  switch (kind) {
    case ResidualKind::kPreNorm:
    case ResidualKind::kDenseFormer: {
      const torch::Tensor y = x + attn_f(x);
      return y + ffn_f(y);
    }
    case ResidualKind::kPostNorm: {
      record(x);
      const torch::Tensor y = ln_1(x + attn(x));
      record(y);
      return ln_2(y + feed_forward(y));
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
    case ResidualKind::kFrac: {
      torch::Tensor m_attn, m_ffn;                                                     // (m+1, 2m) when traced
      const torch::Tensor y = fc_attn->forward(x, attn_f, trace ? &m_attn : nullptr);  // (B, T, d)
      const torch::Tensor y2 = fc_ffn->forward(y, ffn_f, trace ? &m_ffn : nullptr);    // (B, T, d)
      if (trace != nullptr) {
        trace->frac_matrices.push_back(m_attn);
        trace->frac_matrices.push_back(m_ffn);
      }
      return y2;
    }
    case ResidualKind::kLaurel: return laurel_ffn->forward(laurel_attn->forward(x, attn_f), ffn_f);
    case ResidualKind::kMudd: return forward_mudd({x, x, x, x}, trace);
  }
  throw std::logic_error("BlockImpl::forward: unknown residual kind");
}

torch::Tensor BlockImpl::forward_mudd(const std::vector<torch::Tensor>& qkvr, ForwardTrace* trace) {
  if (trace != nullptr) trace->sublayer_inputs.push_back(trace->detach ? qkvr[0].detach() : qkvr[0]);
  const torch::Tensor xa = attn->forward_qkv(ln_1(qkvr[0]), ln_1k(qkvr[1]), ln_1v(qkvr[2])) + qkvr[3];  // (B, T, d)
  if (trace != nullptr) trace->sublayer_inputs.push_back(trace->detach ? xa.detach() : xa);
  return xa + feed_forward(ln_2(xa));
}

torch::Tensor BlockImpl::feed_forward(const torch::Tensor& x) { return moe ? moe(x) : mlp(x); }

torch::Tensor BlockImpl::average(const std::vector<torch::Tensor>& outputs) {
  if (dwa_sources.empty()) return outputs.back();
  std::vector<torch::Tensor> xs;  // the sources, X_{i+1} last: Pre-Norm bit for bit at init
  for (int64_t j : dwa_sources) xs.push_back(outputs[static_cast<size_t>(j)]);
  return own_output_first_sum(xs, [this](size_t s) { return dwa_weights[int64_t(s)]; });  // (B, T, d)
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
    trace->frac_matrices.clear();
    trace->mudd_weights.clear();
  }
  torch::Tensor x = wte(idx);                                 // (B, T, d)
  if (has_mixers(kind_)) x = x.unsqueeze(2).expand({B, T, n, d});  // (B, T, n, d): copied into every stream
  if (kind_ == ResidualKind::kDenseFormer) {
    std::vector<torch::Tensor> outputs{x};  // X_0 .. X_i: the block outputs, each (B, T, d)
    for (const auto& block : *h) {
      auto* b = block->as<BlockImpl>();
      outputs.push_back(b->forward(x, trace));
      x = b->average(outputs);  // Y_{i+1}
    }
  } else if (kind_ == ResidualKind::kMudd) {
    std::vector<torch::Tensor> outputs{x};  // X_0 .. X_{i+1}, each (B, T, d)
    std::vector<torch::Tensor> streams(4, x);  // Q, K, V, R of the next block
    for (const auto& block : *h) {
      auto* b = block->as<BlockImpl>();
      outputs.push_back(b->forward_mudd(streams, trace));
      torch::Tensor w;
      streams = b->mudd->forward(outputs, trace ? &w : nullptr);
      if (trace != nullptr) trace->mudd_weights.push_back(w);
    }
    x = streams.back();  // the last DA's R stream
  } else {
    for (const auto& block : *h) x = block->as<BlockImpl>()->forward(x, trace);
  }
  if (has_mixers(kind_)) x = cfg_.residual.reduce == "mean" ? x.mean(2) : x.sum(2);  // (B, T, d)
  if (ln_f) x = ln_f(x);
  return lm_head ? lm_head(x) : at::linear(x, wte->weight);  // (B, T, V)
}

torch::Tensor GptImpl::loss(const torch::Tensor& idx, const torch::Tensor& targets) {
  const torch::Tensor logits = forward(idx);                  // (B, T, V)
  return at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}).to(at::kFloat), targets.reshape({-1}));
}

std::vector<const MoeRouting*> GptImpl::moe_routing() const {
  std::vector<const MoeRouting*> out;
  for (const auto& block : *h) {
    const auto* b = block->as<BlockImpl>();
    if (b->moe) out.push_back(&b->moe->routing);
  }
  return out;
}

torch::Tensor GptImpl::moe_aux_loss() const {
  const auto layers = moe_routing();
  if (layers.empty()) return {};
  const auto& m = cfg_.model;
  torch::Tensor lb = layers[0]->lb, z = layers[0]->z;
  for (size_t l = 1; l < layers.size(); ++l) {
    lb = lb + layers[l]->lb;
    z = z + layers[l]->z;
  }
  const double L = double(layers.size());
  const double lb_scale = (m.moe_lb_convention == "hf" ? double(m.moe_top_k) : 1.0) / L;
  const double z_scale = m.moe_z_reduce == "sum" ? 1.0 : 1.0 / L;
  return m.moe_lb_weight * lb_scale * lb + m.moe_z_weight * z_scale * z;
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
    // The residual variants' parameters keep the deterministic values their constructors set.
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

torch::Tensor dwa_matrix(GptImpl& model) {
  if (model.kind() != ResidualKind::kDenseFormer) return {};
  const at::NoGradGuard no_grad;
  const int64_t L = model.config().model.n_layers;
  torch::Tensor out = torch::zeros({L, L + 1});
  for (int64_t i = 0; i < L; ++i) {
    auto* b = (*model.h)[static_cast<size_t>(i)]->as<BlockImpl>();
    if (b->dwa_sources.empty()) out[i][i + 1] = 1.0;
    for (size_t s = 0; s < b->dwa_sources.size(); ++s)
      out[i][b->dwa_sources[s]] = b->dwa_weights[static_cast<int64_t>(s)].to(at::kFloat).cpu();
  }
  return out;
}

torch::Tensor laurel_gains(GptImpl& model) {
  if (model.kind() != ResidualKind::kLaurel) return {};
  const at::NoGradGuard no_grad;
  std::vector<torch::Tensor> cols;  // (2) per sublayer
  for (const auto& block : *model.h) {
    auto* b = block->as<BlockImpl>();
    cols.push_back(b->laurel_attn->gains().to(at::kFloat).cpu());
    cols.push_back(b->laurel_ffn->gains().to(at::kFloat).cpu());
  }
  return at::stack(cols, 1);  // (2, 2L)
}

}  // namespace hcx::model
