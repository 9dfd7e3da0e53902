// RAII guard for the float32 residual mixing of HC and mHC, and its dtype (internal to model/).
// Excludes the autocast dispatch keys, so that under bfloat16 autocast the
// mixing matmuls run in the dtype of their (float32) inputs instead of being
// downcast. The same key set exists in LibTorch 1.13 and 2.x.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/DispatchKeySet.h>
#include <c10/core/ScalarType.h>
#include <c10/core/impl/LocalDispatchKeySet.h>

namespace hcx::model {

class MixingGuard {
 public:
  MixingGuard() : guard_(c10::autocast_dispatch_keyset) {}

 private:
  c10::impl::ExcludeDispatchKeyGuard guard_;
};

// The dtype the mixing runs in: float32 for bfloat16, half and float32
// streams; float64 stays float64 (the tests' double-precision modules).
inline c10::ScalarType mixing_dtype(const at::Tensor& t) { return c10::promoteTypes(t.scalar_type(), c10::kFloat); }

}  // namespace hcx::model
