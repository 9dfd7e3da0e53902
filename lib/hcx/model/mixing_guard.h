// RAII guard for the float32 residual mixing of HC and mHC (internal to model/).
// Excludes the autocast dispatch keys, so that under bfloat16 autocast the
// mixing matmuls run in the dtype of their (float32) inputs instead of being
// downcast. The same key set exists in LibTorch 1.13 and 2.x.
#pragma once

#include <c10/core/DispatchKeySet.h>
#include <c10/core/impl/LocalDispatchKeySet.h>

namespace hcx::model {

class MixingGuard {
 public:
  MixingGuard() : guard_(c10::autocast_dispatch_keyset) {}

 private:
  c10::impl::ExcludeDispatchKeyGuard guard_;
};

}  // namespace hcx::model
