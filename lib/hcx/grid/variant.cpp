// Variant names (see variant.h); the options the paper ablates become suffixes.
#include "hcx/grid/variant.h"

namespace hcx::grid {

std::string variant_name(const config::ResidualConfig& r) {
  if (r.kind == "pre_norm") return "Pre-Norm";
  if (r.kind == "post_norm") return "Post-Norm";
  const std::string n = std::to_string(r.n);
  if (r.kind == "mhc") return "mHC×" + n;
  if (r.kind == "frac") {
    std::string name = (r.dynamic ? "DFC×" : "SFC×") + n;
    if (r.dynamic && !r.tanh) name += " no-tanh";
    if (r.dynamic && !r.dynamic_norm) name += " no-norm";
    if (r.dynamic && !r.dynamic_scale) name += " no-scale";
    if (r.freeze_width) name += " WC-frozen";
    if (r.freeze_beta) name += " B-frozen";
    return name;
  }
  if (r.kind == "mudd") return "MUDD";
  if (r.kind == "laurel") return r.laurel_rank > 0 ? "LAuReL-RW+LR r" + std::to_string(r.laurel_rank) : "LAuReL-RW";
  if (r.kind == "denseformer") {
    if (r.dwa_dilation == 1 && r.dwa_period == 1) return "DenseFormer";
    return "DenseFormer " + std::to_string(r.dwa_dilation) + "×" + std::to_string(r.dwa_period);
  }
  if (r.kind != "hc") return r.kind;
  std::string name = (r.dynamic ? "DHC×" : "SHC×") + n;
  if (r.dynamic && !r.tanh) name += " no-tanh";
  if (r.freeze_width) name += " WC-frozen";
  if (r.freeze_beta) name += " B-frozen";
  if (r.reduce != "sum") name += " reduce-" + r.reduce;
  if (r.scale_out_init) name += " scaled-init";
  return name;
}

std::string variant_name(const config::RunConfig& c) {
  std::string name = variant_name(c.residual);
  if (c.model.ffn == "moe")
    name += " MoE " + std::to_string(c.model.moe_experts) + "×" + std::to_string(c.model.moe_top_k);
  return name;
}

bool is_variant_key(const std::string& key) {
  return key.rfind("residual.", 0) == 0 || key == "model.ffn" || key.rfind("model.moe_", 0) == 0;
}

}  // namespace hcx::grid
