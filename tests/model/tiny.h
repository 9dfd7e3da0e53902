// Tiny model configs and helpers shared by the model tests (d_model 16,
// 2 layers, seq_len 8, vocab 32: every suite runs in seconds).
#pragma once

#include <cstdint>
#include <string>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <torch/types.h>
#include <torch/version.h>

#include "common/tiny_config.h"
#include "hcx/config/run_config.h"
#include "hcx/model/gpt.h"

namespace hcx::model::testing {

// seed 7 and the residual stream given, on tiny_config(2 layers, seq_len 8, vocab 32).
inline config::RunConfig tiny(const std::string& kind = "pre_norm", int64_t n = 2, bool dynamic = true) {
  config::RunConfig c = hcx::test::tiny_config(2, 8, 32);
  c.seed = 7;
  c.residual.kind = kind;
  c.residual.n = n;
  c.residual.dynamic = dynamic;
  return c;
}

// Token ids (B, T) from a fixed generator.
inline torch::Tensor tokens(int64_t B, int64_t T, int64_t vocab = 32, uint64_t seed = 1) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  return at::randint(vocab, {B, T}, gen, at::TensorOptions().dtype(at::kLong));
}

// Switches bfloat16 autocast for `device` (kCPU or kCUDA) on or off, as the trainer's
// AutocastGuard does (train/autocast.cpp), in LibTorch 1.13 and 2.x.
inline void set_bf16_autocast(c10::DeviceType device, bool on) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  at::autocast::set_autocast_dtype(device, at::kBFloat16);
  at::autocast::set_autocast_enabled(device, on);
#else
  if (device == c10::DeviceType::CPU) {
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::set_cpu_enabled(on);
  } else {
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(on);
  }
#endif
  if (!on) at::autocast::clear_cache();
}

// Adds normal(0, std) noise to every parameter (no autograd), seeded.
inline void perturb(GptImpl& model, double std, uint64_t seed = 3) {
  const at::NoGradGuard no_grad;
  at::Generator gen = at::detail::createCPUGenerator(seed);
  for (auto& p : model.parameters()) p.add_(at::normal(0.0, std, p.sizes(), gen));
}

// Copies every parameter of `from` whose name exists in `to` (same shape).
inline void copy_shared(GptImpl& from, GptImpl& to) {
  const at::NoGradGuard no_grad;
  auto dst = to.named_parameters();
  for (const auto& item : from.named_parameters()) {
    if (auto* p = dst.find(item.key())) p->copy_(item.value());
  }
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

}  // namespace hcx::model::testing
