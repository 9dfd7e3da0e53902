// LAuReL, learned augmented residual layers (Menghani et al., arXiv 2411.07501;
// docs/method.md, "LAuReL"), one per sublayer (residual.kind "laurel"):
//   RW     x' = a F(x) + b x                     (a, b) = 2 softmax(rw), rw (2) init 0
//   RW+LR  x' = a F(x) + b (x + (x A) B)         A (d, r), B (r, d), r = residual.laurel_rank
// where F includes the sublayer's pre-norm. The paper bounds a and b by
// "softmax or sigmoid" without saying which or how they start; hcx takes
// 2 softmax so that rw = 0 gives a = b = 1, and A "column-orthogonal"
// (A[i][j] = 1/sqrt(r d) when i mod r = j, else 0) with B = 0, the paper's
// LLM init. So at init x' = F(x) + x: the Pre-Norm function bit for bit
// (2 softmax(0) = 1 exactly, x B = 0). No random numbers are drawn.
// Parameters: rw (2), lr_a (d, r), lr_b (r, d) (RW+LR only); rw does not decay,
// lr_a and lr_b do (param_specs.h).
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include "hcx/config/run_config.h"
#include "hcx/model/hyper_connections.h"

namespace hcx::model {

class LaurelImpl : public torch::nn::Module {
 public:
  explicit LaurelImpl(const config::RunConfig& cfg);

  // x (B, T, d) -> a f(x) + b (x [+ x A B]): (B, T, d), float32 streams stay float32.
  torch::Tensor forward(const torch::Tensor& x, const Sublayer& f);

  // (a, b) = 2 softmax(rw): (2), float32 (float64 for a float64 module).
  torch::Tensor gains();

  int64_t rank;
  torch::Tensor rw, lr_a, lr_b;  // lr_*: rank > 0 only
};
TORCH_MODULE(Laurel);

}  // namespace hcx::model
