// LAuReL (see laurel.h). Shapes: B batch, T time, d = d_model, r = residual.laurel_rank.
#include "hcx/model/laurel.h"

#include <cmath>

#include <ATen/ATen.h>
#include <torch/types.h>

#include "hcx/model/mixing_guard.h"

namespace hcx::model {

LaurelImpl::LaurelImpl(const config::RunConfig& cfg) : rank(cfg.residual.laurel_rank) {
  const int64_t d = cfg.model.d_model, r = rank;
  // Registration order is the naming contract of param_specs.cpp.
  rw = register_parameter("rw", torch::zeros({2}));
  if (r > 0) {
    torch::Tensor a = torch::zeros({d, r});  // column-orthogonal: row i has 1/sqrt(r d) in column i mod r
    const torch::Tensor rows = torch::arange(d, torch::kLong);
    a.index_put_({rows, rows.remainder(r)}, 1.0 / std::sqrt(double(r * d)));
    lr_a = register_parameter("lr_a", a);
    lr_b = register_parameter("lr_b", torch::zeros({r, d}));
  }
}

torch::Tensor LaurelImpl::gains() { return 2.0 * at::softmax(rw.to(mixing_dtype(rw)), 0); }

torch::Tensor LaurelImpl::forward(const torch::Tensor& x, const Sublayer& f) {
  const torch::Tensor y = f(x);  // (B, T, d), the sublayer (caller's autocast)
  MixingGuard fp32;
  const torch::Tensor xf = x.to(mixing_dtype(x));
  const torch::Tensor g = gains();                                                         // (2): a, b
  const torch::Tensor skip = rank > 0 ? xf + at::matmul(at::matmul(xf, lr_a), lr_b) : xf;  // (B, T, d)
  return g[0] * y.to(xf.scalar_type()) + g[1] * skip;
}

}  // namespace hcx::model
