// bfloat16 autocast on CPU and CUDA across LibTorch versions (1.13 and 2.x
// name the switches differently). Internal to train/.
//
// Under autocast the GEMMs (linear, matmul, bmm, baddbmm) run in bfloat16 —
// on CPU through oneDNN, which uses AMX or AVX512-BF16 where the core has
// them. What must stay float32 is float32 by construction, on both devices:
// the norms and the loss cast their inputs explicitly (model/layers.cpp,
// model/gpt.cpp), attention's softmax asks for float32, and the HC/mHC
// mixing runs under model::MixingGuard, which excludes the autocast keys.
#pragma once

#include <c10/core/DeviceType.h>

namespace hcx::train {

// Enables bfloat16 autocast for ops on `device` (kCPU or kCUDA) while alive;
// does nothing when `enabled` is false. Not reentrant.
class AutocastGuard {
 public:
  AutocastGuard(bool enabled, c10::DeviceType device);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool enabled_;
  c10::DeviceType device_;
};

}  // namespace hcx::train
