// MUDDFormer's dynamic dense aggregation (see mudd.h). Shapes: B batch, T time,
// d = d_model, C ways, S sources, K hidden.
#include "hcx/model/mudd.h"

#include <cmath>
#include <string>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/types.h>

#include "hcx/model/gpt.h"
#include "hcx/model/mixing_guard.h"

namespace hcx::model {

MuddImpl::MuddImpl(const config::RunConfig& cfg, int64_t i) : eps(cfg.model.norm_eps) {
  const MuddShape s = mudd_shape(cfg, i);
  ways = s.ways, sources = s.sources, hidden = s.hidden;
  const int64_t d = cfg.model.d_model;
  at::Generator gen = at::detail::createCPUGenerator(param_seed(cfg.seed, "h." + std::to_string(i) + ".mudd.w1"));
  // Registration order is the naming contract of param_specs.cpp.
  w1 = register_parameter("w1", at::normal(0.0, 1.0 / std::sqrt(double(d)), {d, hidden}, gen));
  w2 = register_parameter("w2", torch::zeros({hidden, ways * sources}));
  torch::Tensor a0 = torch::zeros({ways, sources});
  a0.select(1, sources - 1).fill_(1.0);  // every way reads the block's own output
  a = register_parameter("a", a0);
}

std::vector<torch::Tensor> MuddImpl::forward(const std::vector<torch::Tensor>& outputs, torch::Tensor* weights_out) {
  MixingGuard fp32;
  const torch::Tensor& x = outputs.back();  // X_{i+1} (B, T, d)
  const torch::Tensor xf = x.to(mixing_dtype(x));
  const torch::Tensor xn = xf * at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);  // RMSNorm, no gain
  const torch::Tensor dw =
      at::matmul(at::gelu(at::matmul(xn, w1)), w2).reshape({x.size(0), x.size(1), ways, sources}) + a;  // (B, T, C, S)
  if (weights_out != nullptr) {
    const at::NoGradGuard no_grad;
    *weights_out = dw.reshape({-1, ways, sources}).mean(0).to(at::kFloat).detach();
  }
  std::vector<torch::Tensor> xs;  // X_0 .. X_{i+1} in the mixing dtype
  for (const auto& o : outputs) xs.push_back(o.to(xf.scalar_type()));
  std::vector<torch::Tensor> out;
  for (int64_t c = 0; c < ways; ++c) {
    const torch::Tensor w = dw.select(-2, c);  // (B, T, S)
    out.push_back(own_output_first_sum(xs, [&w](size_t j) { return w.select(-1, int64_t(j)).unsqueeze(-1); }));
  }
  return out;  // C x (B, T, d)
}

torch::Tensor own_output_first_sum(const std::vector<torch::Tensor>& xs,
                                   const std::function<torch::Tensor(size_t)>& weight) {
  const size_t last = xs.size() - 1;
  torch::Tensor y = weight(last) * xs[last];
  for (size_t j = 0; j < last; ++j) y = y + weight(j) * xs[j];
  return y;
}

}  // namespace hcx::model
