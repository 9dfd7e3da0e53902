// Peak CUDA memory of the caching allocator, where LibTorch has CUDA.
#pragma once

namespace hcx::train {

// Peak bytes allocated on CUDA device `index` since the process started; 0
// in a build without CUDA (HCX_WITH_CUDA unset).
double cuda_peak_allocated_bytes(int index);

}  // namespace hcx::train
