// bfloat16 autocast switches for LibTorch 1.13 and 2.x; see autocast.h.
#include "hcx/train/autocast.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#define HCX_AUTOCAST_BY_DEVICE (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4))

namespace hcx::train {
namespace {

void set_autocast(c10::DeviceType device, bool on) {
#if HCX_AUTOCAST_BY_DEVICE
  if (on) at::autocast::set_autocast_dtype(device, at::kBFloat16);
  at::autocast::set_autocast_enabled(device, on);
#else
  if (device == c10::DeviceType::CPU) {
    if (on) at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::set_cpu_enabled(on);
  } else {
    if (on) at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(on);
  }
#endif
}

}  // namespace

AutocastGuard::AutocastGuard(bool enabled, c10::DeviceType device) : enabled_(enabled), device_(device) {
  if (!enabled_) return;
  set_autocast(device_, true);
}

AutocastGuard::~AutocastGuard() {
  if (!enabled_) return;
  set_autocast(device_, false);
  at::autocast::clear_cache();
}

}  // namespace hcx::train
