// Analytic parameter counts, FLOPs and activation memory of a model config
// (plain C++, no LibTorch; the formulas are stated in inspect.h).
#include "hcx/model/inspect.h"

#include <cstdio>
#include <sstream>
#include <string>

namespace hcx::model {
namespace {

// Whether the variant has parameters of its own (the "HC overhead" lines).
bool has_variant_params(const config::RunConfig& c) {
  return c.residual.kind != "pre_norm" && c.residual.kind != "post_norm";
}

// The sources of every DWA of a denseformer, summed over blocks.
double dwa_sources_total(const config::RunConfig& c) {
  double k = 0;
  for (int64_t i = 0; i < c.model.n_layers; ++i) k += double(dwa_sources(c, i).size());
  return k;
}

// MUDD's DAs summed over blocks: FLOPs 2(dK + K C S + C S d), saved elements K + C S + C d.
double mudd_total(const config::RunConfig& c, bool flops) {
  double k = 0;
  const double d = double(c.model.d_model);
  for (int64_t i = 0; i < c.model.n_layers; ++i) {
    const MuddShape s = mudd_shape(c, i);
    const double K = double(s.hidden), CS = double(s.ways * s.sources), C = double(s.ways);
    k += flops ? 2 * (d * K + K * CS + CS * d) : K + CS + C * d;
  }
  return k;
}

// FLOPs per token of the residual variant's own work, whole model (inspect.h convention).
double variant_flops(const config::RunConfig& c) {
  const auto& r = c.residual;
  const double n = double(r.n), d = double(c.model.d_model), sublayers = 2.0 * double(c.model.n_layers);
  if (r.kind == "hc") return sublayers * (r.dynamic ? 4.0 : 2.0) * n * d * (n + 2);
  if (r.kind == "mhc") return sublayers * 2.0 * n * d * (n + 2) * (n + 1);
  if (r.kind == "frac") return sublayers * (r.dynamic ? 4.0 : 2.0) * d * (2 * n + 1);
  if (r.kind == "laurel") return sublayers * (4.0 * d + 4.0 * double(r.laurel_rank) * d);
  if (r.kind == "denseformer") return 2.0 * d * dwa_sources_total(c);
  if (r.kind == "mudd") return mudd_total(c, /*flops=*/true);
  return 0;
}

// Elements the residual variant saves for backward per token, whole model (inspect.h).
double variant_elems(const config::RunConfig& c) {
  const auto& r = c.residual;
  const double n = double(r.n), d = double(c.model.d_model), sublayers = 2.0 * double(c.model.n_layers);
  if (r.kind == "hc") return sublayers * (r.dynamic ? (2 * n + 1) * d + 2 * n * (n + 2) : (n + 1) * d);
  if (r.kind == "mhc") return sublayers * ((2 * n + 1) * d + 2 * n * (n + 2) + 2.0 * double(r.sinkhorn_iters) * n * n);
  if (r.kind == "frac") return sublayers * (r.dynamic ? 3 * d + 2 * n * (2 * n + 1) : 2 * d);
  if (r.kind == "laurel") return sublayers * (r.laurel_rank > 0 ? 3 * d + double(r.laurel_rank) : 2 * d);
  if (r.kind == "denseformer") return d * dwa_sources_total(c);
  if (r.kind == "mudd") return mudd_total(c, /*flops=*/false);
  return 0;
}

std::string with_commas(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// 1234567 -> "1.23 M" (FLOPs); bytes use binary units.
std::string si(double v, const char* unit) {
  const char* prefixes[] = {"", "K", "M", "G", "T", "P"};
  int i = 0;
  while (v >= 1000.0 && i < 5) v /= 1000.0, ++i;
  return fmt(i == 0 ? "%.0f " : "%.2f ", v) + prefixes[i] + unit;
}

std::string bytes(double v) {
  const char* units[] = {"B", "KiB", "MiB", "GiB"};
  int i = 0;
  while (v >= 1024.0 && i < 3) v /= 1024.0, ++i;
  return fmt(i == 0 ? "%.0f " : "%.1f ", v) + units[i];
}

std::string ffn_summary(const config::ModelConfig& m) {
  if (m.ffn != "moe") return m.ffn + " FFN (hidden " + std::to_string(ffn_hidden(m)) + ")";
  std::string s = "moe FFN: " + std::to_string(m.moe_experts) + " swiglu experts (hidden " +
                  std::to_string(moe_hidden(m)) + "), top-" + std::to_string(m.moe_top_k) + ", dropless";
  if (m.moe_norm_topk) s += ", renormalised";
  return s + "; aux lb " + fmt("%g", m.moe_lb_weight) + " (" + m.moe_lb_convention + "), z " +
         fmt("%g", m.moe_z_weight) + " (" + m.moe_z_reduce + ")";
}

std::string residual_summary(const config::RunConfig& c) {
  const auto& r = c.residual;
  std::string s = r.kind;
  if (r.kind == "hc") {
    s += std::string(r.dynamic ? " dynamic" : " static") + ", n=" + std::to_string(r.n);
    if (r.dynamic) s += r.tanh ? ", tanh" : ", no tanh";
  } else if (r.kind == "mhc") {
    s += ", n=" + std::to_string(r.n) + ", sinkhorn_iters=" + std::to_string(r.sinkhorn_iters);
  } else if (r.kind == "frac") {
    s += std::string(r.dynamic ? " dynamic" : " static") + ", m=" + std::to_string(r.n) + " fractions of " +
         std::to_string(c.model.d_model / r.n);
    if (r.dynamic) {
      s += r.tanh ? ", tanh" : ", no tanh";
      s += r.dynamic_norm ? ", norm" : ", no norm";
      s += r.dynamic_scale ? ", scale" : ", no scale";
    }
  } else if (r.kind == "laurel") {
    s += r.laurel_rank > 0 ? " RW+LR, rank " + std::to_string(r.laurel_rank) : " RW";
  } else if (r.kind == "mudd") {
    s += ", Q/K/V/R ways";
  } else if (r.kind == "denseformer") {
    s += ", dilation " + std::to_string(r.dwa_dilation) + ", period " + std::to_string(r.dwa_period);
  }
  if (r.kind == "hc" || r.kind == "mhc") {
    s += ", reduce " + r.reduce;
    if (r.freeze_width) s += ", width frozen";
    if (r.freeze_beta) s += ", beta frozen";
    if (r.scale_out_init) s += ", scale_out_init";
  }
  return s;
}

}  // namespace

ModelStats compute_stats(const config::RunConfig& c) {
  ModelStats s;
  const auto& m = c.model;
  s.ffn_hidden = ffn_hidden(m);
  for (const ParamSpec& p : param_specs(c)) {
    const int64_t k = p.numel();
    s.params_total += k;
    if (p.trainable) s.params_trainable += k;
    s.params_by_group[static_cast<int>(p.group)] += k;
    if (is_hc_param(p.name)) s.hc_params += k;
  }
  s.hc_params_per_sublayer = mixer_params(c);
  s.hc_params_pct = 100.0 * double(s.hc_params) / double(s.params_total - s.hc_params);

  const double d = double(m.d_model), T = double(m.seq_len), V = double(m.vocab_size), L = double(m.n_layers);
  const double h = double(s.ffn_hidden), nh = double(m.n_heads);
  const bool swiglu = m.ffn == "swiglu", moe = m.ffn == "moe";
  const double E = double(m.moe_experts), k = double(m.moe_top_k), he = moe ? double(moe_hidden(m)) : 0.0;
  s.params_active =
      s.params_total - (moe ? m.n_layers * (m.moe_experts - m.moe_top_k) * 3 * m.d_model * int64_t(he) : 0);
  const double attn_flops = 8 * d * d + 4 * T * d;
  const double ffn_flops = moe ? 2 * d * E + k * 6 * d * he : swiglu ? 6 * d * h : 16 * d * d;
  s.hc_flops_per_token = variant_flops(c);
  s.flops_per_token = L * (attn_flops + ffn_flops) + 2 * d * V + s.hc_flops_per_token;
  s.hc_flops_pct = 100.0 * s.hc_flops_per_token / (s.flops_per_token - s.hc_flops_per_token);

  const bool bf16 = c.train.dtype == "bfloat16";
  const double act_bytes = bf16 ? 2.0 : 4.0;  // sublayer activations
  const double ffn_elems = moe ? k * (3 * d + 4 * he) + 2 * E : swiglu ? 2 * d + 4 * h : 10 * d;
  const double sub_elems = (8 * d + 2 * nh * T) + ffn_elems;
  s.hc_activation_bytes_per_token = variant_elems(c) * 4.0;  // streams and mixing stay float32
  s.activation_bytes_per_token =
      L * sub_elems * act_bytes + (2 * d + 2 * V) * act_bytes + s.hc_activation_bytes_per_token;
  s.hc_activation_pct =
      100.0 * s.hc_activation_bytes_per_token / (s.activation_bytes_per_token - s.hc_activation_bytes_per_token);
  return s;
}

std::string stats_table(const config::RunConfig& c, const ModelStats& s) {
  const auto& m = c.model;
  std::ostringstream o;
  o << "model      d_model " << m.d_model << ", " << m.n_layers << " layers, " << m.n_heads << " heads, seq_len "
    << m.seq_len << ", vocab " << m.vocab_size << "\n"
    << "           " << ffn_summary(m) << ", " << m.norm << " (eps " << m.norm_eps << "), "
    << (m.tie_embeddings ? "tied" : "untied") << " embeddings\n"
    << "residual   " << residual_summary(c) << "\n\n";
  auto row = [&o](const std::string& label, const std::string& value, const std::string& note = "") {
    std::string line = "  " + label;
    line.resize(30, ' ');
    std::string v = value;
    if (v.size() < 16) v.insert(0, 16 - v.size(), ' ');
    o << line << v << (note.empty() ? "" : "  " + note) << "\n";
  };
  o << "parameters\n";
  for (int g = 0; g < kNumParamGroups; ++g) {
    const int64_t k = s.params_by_group[g];
    if (k == 0 && g >= static_cast<int>(ParamGroup::kHcStatic) && !has_variant_params(c)) continue;
    row(to_string(static_cast<ParamGroup>(g)), with_commas(k), fmt("%5.1f %%", 100.0 * double(k) / double(s.params_total)));
  }
  row("total", with_commas(s.params_total));
  if (m.ffn == "moe") row("active per token", with_commas(s.params_active), "the router and k of E experts");
  if (s.params_trainable != s.params_total) row("trainable", with_commas(s.params_trainable));
  o << "\ncompute (forward, per token; 2 FLOPs per multiply-add, attention at seq_len " << m.seq_len << ")\n";
  row("FLOPs", si(s.flops_per_token, "FLOP"), m.ffn == "moe" ? "the router and the k active experts" : "");
  row("training, ~3x forward", si(3 * s.flops_per_token, "FLOP"));
  o << "\nactivation memory (training, per token; estimate, see inspect.h)\n";
  row("saved for backward", bytes(s.activation_bytes_per_token), c.train.dtype);
  if (has_variant_params(c)) {
    o << "\nresidual-variant overhead (vs the same model with Pre-Norm residuals)\n";
    row("parameters", with_commas(s.hc_params), fmt("+%.3f %%", s.hc_params_pct));
    if (s.hc_params_per_sublayer > 0) row("  per sublayer", with_commas(s.hc_params_per_sublayer));
    row("FLOPs / token", si(s.hc_flops_per_token, "FLOP"), fmt("+%.3f %%", s.hc_flops_pct));
    row("activation memory / token", bytes(s.hc_activation_bytes_per_token), fmt("+%.1f %%", s.hc_activation_pct));
  }
  return o.str();
}

config::Json stats_json(const config::RunConfig& c, const ModelStats& s) {
  config::Json params = {{"total", s.params_total}, {"trainable", s.params_trainable}, {"active", s.params_active}};
  for (int g = 0; g < kNumParamGroups; ++g) params[to_string(static_cast<ParamGroup>(g))] = s.params_by_group[g];
  const auto full = config::to_json(c);
  return {{"model", full["model"]},
          {"residual", full["residual"]},
          {"params", params},
          {"ffn_hidden", s.ffn_hidden},
          {"flops_per_token", s.flops_per_token},
          {"activation_bytes_per_token", s.activation_bytes_per_token},
          {"hc",
           {{"params", s.hc_params},
            {"params_per_sublayer", s.hc_params_per_sublayer},
            {"params_pct", s.hc_params_pct},
            {"flops_per_token", s.hc_flops_per_token},
            {"flops_pct", s.hc_flops_pct},
            {"activation_bytes_per_token", s.hc_activation_bytes_per_token},
            {"activation_pct", s.hc_activation_pct}}}};
}

}  // namespace hcx::model
