// Human names of residual variants, as the paper writes them: "Pre-Norm",
// "Post-Norm", "SHC×2", "DHC×4", "DHC×4 no-tanh", "DHC×4 WC-frozen",
// "DHC×4 B-frozen", "mHC×4", and for the other residual-stream variants
// "SFC×4", "DFC×4" (Frac-Connections; " no-tanh", " no-norm", " no-scale"),
// "LAuReL-RW", "LAuReL-RW+LR r4", "DenseFormer", "DenseFormer 4×5", "MUDD"
// (dilation × period). A run with the MoE FFN adds " MoE E×k" (experts ×
// top-k): "DHC×4 MoE 8×2". Torch-free, pure.
#pragma once

#include <string>

#include "hcx/config/run_config.h"

namespace hcx::grid {

std::string variant_name(const config::ResidualConfig& r);
std::string variant_name(const config::RunConfig& c);

// Whether a dotted key selects the variant variant_name() names: residual.*,
// model.ffn and model.moe_*.
bool is_variant_key(const std::string& key);

}  // namespace hcx::grid
