// Variant names (variant.h): the paper's spelling for every residual kind and
// the suffixes of the options the papers ablate.
#include "hcx/grid/variant.h"

#include <gtest/gtest.h>

namespace hcx::grid {
namespace {

config::ResidualConfig residual(const std::string& kind, int64_t n = 4, bool dynamic = true) {
  config::ResidualConfig r;
  r.kind = kind;
  r.n = n;
  r.dynamic = dynamic;
  return r;
}

TEST(VariantName, EveryKindAsThePapersWriteIt) {
  EXPECT_EQ(variant_name(residual("pre_norm")), "Pre-Norm");
  EXPECT_EQ(variant_name(residual("post_norm")), "Post-Norm");
  EXPECT_EQ(variant_name(residual("hc", 4)), "DHC×4");
  EXPECT_EQ(variant_name(residual("hc", 2, false)), "SHC×2");
  EXPECT_EQ(variant_name(residual("mhc", 4)), "mHC×4");
  EXPECT_EQ(variant_name(residual("frac", 4)), "DFC×4");
  EXPECT_EQ(variant_name(residual("frac", 2, false)), "SFC×2");
  EXPECT_EQ(variant_name(residual("laurel")), "LAuReL-RW");
  auto lr = residual("laurel");
  lr.laurel_rank = 16;
  EXPECT_EQ(variant_name(lr), "LAuReL-RW+LR r16");
  EXPECT_EQ(variant_name(residual("denseformer")), "DenseFormer");
  EXPECT_EQ(variant_name(residual("mudd")), "MUDD");
  auto dense = residual("denseformer");
  dense.dwa_dilation = 4;
  dense.dwa_period = 5;
  EXPECT_EQ(variant_name(dense), "DenseFormer 4×5");
}

TEST(VariantName, TheMoeFfnAddsExpertsAndTopK) {
  config::RunConfig c;
  c.residual = residual("hc", 4);
  EXPECT_EQ(variant_name(c), "DHC×4");
  c.model.ffn = "moe";
  EXPECT_EQ(variant_name(c), "DHC×4 MoE 8×2");
  c.model.moe_experts = 64;
  c.model.moe_top_k = 8;
  c.residual = residual("pre_norm");
  EXPECT_EQ(variant_name(c), "Pre-Norm MoE 64×8");
  EXPECT_TRUE(is_variant_key("residual.n"));
  EXPECT_TRUE(is_variant_key("model.ffn"));
  EXPECT_TRUE(is_variant_key("model.moe_top_k"));
  EXPECT_FALSE(is_variant_key("model.d_model"));
  EXPECT_FALSE(is_variant_key("train.lr"));
}

TEST(VariantName, AblatedSwitchesBecomeSuffixes) {
  auto dfc = residual("frac", 2);
  dfc.tanh = false;
  dfc.dynamic_norm = false;
  dfc.dynamic_scale = false;
  EXPECT_EQ(variant_name(dfc), "DFC×2 no-tanh no-norm no-scale");
  auto sfc = dfc;
  sfc.dynamic = false;  // the dynamic switches do not apply to SFC
  sfc.freeze_beta = true;
  EXPECT_EQ(variant_name(sfc), "SFC×2 B-frozen");
  auto dhc = residual("hc", 4);
  dhc.tanh = false;
  dhc.freeze_width = true;
  EXPECT_EQ(variant_name(dhc), "DHC×4 no-tanh WC-frozen");
}

}  // namespace
}  // namespace hcx::grid
