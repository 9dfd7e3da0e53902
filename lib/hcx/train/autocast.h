// bfloat16 autocast on CUDA across LibTorch versions (1.13 and 2.x name the
// switches differently). Internal to train/.
#pragma once

namespace hcx::train {

// Enables bfloat16 autocast for CUDA ops while alive; does nothing when
// `enabled` is false. Not reentrant.
class AutocastGuard {
 public:
  explicit AutocastGuard(bool enabled);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool enabled_;
};

}  // namespace hcx::train
