// Peak and free CUDA memory; see cuda_memory.h. Compiled against a CUDA LibTorch only
// when CMake finds one (HCX_WITH_CUDA).
#include "hcx/train/cuda_memory.h"

#ifdef HCX_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#endif

namespace hcx::train {

double cuda_peak_allocated_bytes(int index) {
#ifdef HCX_WITH_CUDA
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(index);
  return static_cast<double>(stats.allocated_bytes[0].peak);  // [0]: StatType::AGGREGATE
#else
  (void)index;
  return 0;
#endif
}

double cuda_free_bytes(int index) {
#ifdef HCX_WITH_CUDA
  const c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(index));
  size_t free = 0, total = 0;
  if (cudaMemGetInfo(&free, &total) != cudaSuccess) return 0;
  return static_cast<double>(free);
#else
  (void)index;
  return 0;
#endif
}

}  // namespace hcx::train
