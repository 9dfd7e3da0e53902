// Parameter names, shapes and groups of the model, without LibTorch (see
// param_specs.h). gpt.cpp registers the same names; tests/model compare them.
#include "hcx/model/param_specs.h"

#include <stdexcept>

namespace hcx::model {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// The part of a mixer parameter's name after "hc_attn." / "hc_ffn.".
std::string mixer_leaf(const std::string& name) {
  for (const char* prefix : {".hc_attn.", ".hc_ffn.", ".mudd."}) {
    const auto at = name.find(prefix);
    if (at != std::string::npos) return name.substr(at + std::string(prefix).size());
  }
  return "";
}

// Mixer parameters in registration order: (leaf name, shape, frozen).
struct MixerParam {
  std::string leaf;
  std::vector<int64_t> shape;
  bool frozen;
};

std::vector<MixerParam> mixer_param_list(const config::RunConfig& cfg) {
  const auto& r = cfg.residual;
  const int64_t n = r.n, d = cfg.model.d_model;
  const bool fw = r.freeze_width, fb = r.freeze_beta;
  std::vector<MixerParam> out;
  if (r.kind == "hc") {
    out.push_back({"static_beta", {n}, fb});
    out.push_back({"static_alpha", {n, n + 1}, fw});
    if (r.dynamic) {
      out.push_back({"dynamic_alpha_fn", {d, n + 1}, fw});
      out.push_back({"dynamic_beta_fn", {d}, fb});
      out.push_back({"dynamic_alpha_scale", {1}, fw});
      out.push_back({"dynamic_beta_scale", {1}, fb});
      // The stream norm is a child module: LibTorch lists its parameters after
      // the mixer's own. It only feeds the dynamic terms, so it is frozen when both are.
      if (cfg.model.norm == "rmsnorm") out.push_back({"norm.weight", {d}, fw && fb});
    }
  } else if (r.kind == "frac") {
    const int64_t m = n, e = d / n;
    out.push_back({"static_beta", {m}, fb});
    out.push_back({"static_alpha", {m, 2 * m}, fw});
    if (r.dynamic) {
      out.push_back({"dynamic_alpha_fn", {e, 2 * m}, fw});
      out.push_back({"dynamic_beta_fn", {e}, fb});
      if (r.dynamic_scale) {
        out.push_back({"dynamic_alpha_scale", {1}, fw});
        out.push_back({"dynamic_beta_scale", {1}, fb});
      }
      if (r.dynamic_norm && cfg.model.norm == "rmsnorm") out.push_back({"norm.weight", {e}, fw && fb});
    }
  } else if (r.kind == "laurel") {
    out.push_back({"rw", {2}, false});
    if (r.laurel_rank > 0) {
      out.push_back({"lr_a", {d, r.laurel_rank}, false});
      out.push_back({"lr_b", {r.laurel_rank, d}, false});
    }
  } else if (r.kind == "mhc") {
    out.push_back({"phi_pre", {n * d, n}, fw});
    out.push_back({"phi_post", {n * d, n}, fb});
    out.push_back({"phi_res", {n * d, n * n}, fw});
    out.push_back({"b_pre", {n}, fw});
    out.push_back({"b_post", {n}, fb});
    out.push_back({"b_res", {n, n}, fw});
    out.push_back({"alpha_pre", {1}, fw});
    out.push_back({"alpha_post", {1}, fb});
    out.push_back({"alpha_res", {1}, fw});
  }
  return out;
}

}  // namespace

const char* to_string(ParamGroup g) {
  switch (g) {
    case ParamGroup::kEmbedding: return "embedding";
    case ParamGroup::kAttention: return "attention";
    case ParamGroup::kFfn: return "ffn";
    case ParamGroup::kNorm: return "norm";
    case ParamGroup::kHcStatic: return "hc_static";
    case ParamGroup::kHcDynamic: return "hc_dynamic";
    case ParamGroup::kHcScale: return "hc_scale";
  }
  return "?";
}

bool is_hc_param(const std::string& name) { return !mixer_leaf(name).empty() || ends_with(name, ".dwa_weights"); }

ParamClass classify_param(const std::string& name) {
  const std::string leaf = mixer_leaf(name);
  if (!leaf.empty()) {
    if (leaf == "static_beta" || leaf == "static_alpha" || leaf == "b_pre" || leaf == "b_post" || leaf == "b_res" ||
        leaf == "a")
      return {ParamGroup::kHcStatic, false};
    if (leaf == "dynamic_alpha_fn" || leaf == "dynamic_beta_fn" || leaf == "phi_pre" || leaf == "phi_post" ||
        leaf == "phi_res" || leaf == "lr_a" || leaf == "lr_b" || leaf == "w1" || leaf == "w2")
      return {ParamGroup::kHcDynamic, true};
    if (leaf == "dynamic_alpha_scale" || leaf == "dynamic_beta_scale" || leaf == "alpha_pre" || leaf == "alpha_post" ||
        leaf == "alpha_res" || leaf == "rw")
      return {ParamGroup::kHcScale, false};
    if (leaf == "norm.weight") return {ParamGroup::kNorm, false};
  } else if (name.rfind("h.", 0) == 0 && ends_with(name, ".dwa_weights")) {
    return {ParamGroup::kHcStatic, false};
  } else if (name == "wte.weight" || name == "lm_head.weight") {
    return {ParamGroup::kEmbedding, true};
  } else if (name == "ln_f.weight" || ends_with(name, ".ln_1.weight") || ends_with(name, ".ln_2.weight") ||
             ends_with(name, ".ln_1k.weight") || ends_with(name, ".ln_1v.weight")) {
    return {ParamGroup::kNorm, false};
  } else if (contains(name, ".attn.")) {
    return {ParamGroup::kAttention, true};
  } else if (contains(name, ".mlp.")) {
    return {ParamGroup::kFfn, true};
  }
  throw std::logic_error("hcx::model::classify_param: unknown parameter name '" + name + "'");
}

int64_t ParamSpec::numel() const {
  int64_t k = 1;
  for (int64_t s : shape) k *= s;
  return k;
}

int64_t ffn_hidden(const config::ModelConfig& m) {
  if (m.ffn == "gelu") return 4 * m.d_model;  // swiglu and moe: the swiglu width
  const int64_t h = (8 * m.d_model + 2) / 3;  // ceil(8d/3)
  return (h + 7) / 8 * 8;
}

int64_t moe_hidden(const config::ModelConfig& m) {
  if (m.moe_hidden > 0) return m.moe_hidden;
  config::ModelConfig dense = m;
  dense.ffn = "swiglu";
  return (ffn_hidden(dense) + m.moe_top_k - 1) / m.moe_top_k;
}

std::vector<int64_t> dwa_sources(const config::RunConfig& cfg, int64_t i) {
  const auto& r = cfg.residual;
  std::vector<int64_t> out;
  if (r.kind != "denseformer" || (i + 1) % r.dwa_period != 0) return out;
  for (int64_t j = (i + 1) % r.dwa_dilation; j <= i + 1; j += r.dwa_dilation) out.push_back(j);
  return out;
}

MuddShape mudd_shape(const config::RunConfig& cfg, int64_t i) {
  const bool last = i + 1 == cfg.model.n_layers;
  const int64_t ways = last ? 1 : 4, sources = i + 2;
  return {ways, sources, last ? 4 * sources : ways * sources};
}

int64_t mixer_params(const config::RunConfig& cfg) {
  int64_t k = 0;
  for (const auto& p : mixer_param_list(cfg)) {
    int64_t e = 1;
    for (int64_t s : p.shape) e *= s;
    k += e;
  }
  return k;
}

std::vector<ParamSpec> param_specs(const config::RunConfig& cfg) {
  const auto& m = cfg.model;
  const int64_t d = m.d_model, V = m.vocab_size, h = ffn_hidden(m);
  const bool rms = m.norm == "rmsnorm";
  const std::string& kind = cfg.residual.kind;
  const bool mixers = kind == "hc" || kind == "mhc" || kind == "frac" || kind == "laurel";
  std::vector<ParamSpec> out;
  auto add = [&out](std::string name, std::vector<int64_t> shape, bool trainable = true) {
    const ParamClass c = classify_param(name);
    out.push_back({std::move(name), std::move(shape), c.group, c.decays, trainable});
  };
  add("wte.weight", {V, d});
  for (int64_t i = 0; i < m.n_layers; ++i) {
    const std::string p = "h." + std::to_string(i) + ".";
    // A block's own parameter comes before its children's (LibTorch lists a module first).
    const auto sources = dwa_sources(cfg, i);
    if (!sources.empty()) add(p + "dwa_weights", {int64_t(sources.size())});
    if (rms) add(p + "ln_1.weight", {d});
    add(p + "attn.c_attn.weight", {3 * d, d});
    add(p + "attn.c_proj.weight", {d, d});
    if (rms) add(p + "ln_2.weight", {d});
    if (m.ffn == "moe") {
      const int64_t E = m.moe_experts, he = moe_hidden(m);
      add(p + "mlp.router.weight", {E, d});
      add(p + "mlp.c_fc.weight", {E, 2 * he, d});
      add(p + "mlp.c_proj.weight", {E, d, he});
    } else {
      add(p + "mlp.c_fc.weight", {m.ffn == "gelu" ? h : 2 * h, d});
      add(p + "mlp.c_proj.weight", {d, h});
    }
    if (kind == "mudd") {
      if (rms) add(p + "ln_1k.weight", {d});
      if (rms) add(p + "ln_1v.weight", {d});
      const MuddShape s = mudd_shape(cfg, i);
      add(p + "mudd.w1", {d, s.hidden});
      add(p + "mudd.w2", {s.hidden, s.ways * s.sources});
      add(p + "mudd.a", {s.ways, s.sources});
    }
    if (mixers) {
      for (const char* which : {"hc_attn.", "hc_ffn."}) {
        for (const auto& mp : mixer_param_list(cfg)) add(p + which + mp.leaf, mp.shape, !mp.frozen);
      }
    }
  }
  if (rms && cfg.residual.kind != "post_norm") add("ln_f.weight", {d});
  if (!m.tie_embeddings) add("lm_head.weight", {V, d});
  return out;
}

}  // namespace hcx::model
