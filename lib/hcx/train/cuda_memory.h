// Peak and free CUDA memory, where LibTorch has CUDA.
#pragma once

namespace hcx::train {

// Peak bytes allocated on CUDA device `index` since the process started; 0
// in a build without CUDA (HCX_WITH_CUDA unset).
double cuda_peak_allocated_bytes(int index);

// Free bytes on CUDA device `index` (cudaMemGetInfo); 0 in a build without
// CUDA or when the device cannot be asked.
double cuda_free_bytes(int index);

}  // namespace hcx::train
