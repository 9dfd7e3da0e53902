// The MoE FFN (see moe.h). Shapes: N = B T tokens, d = d_model, E experts, k = top_k,
// h_e = expert hidden width.
#include "hcx/model/moe.h"

#include <tuple>
#include <vector>

#include <ATen/ATen.h>
#include <torch/types.h>

#include "hcx/model/mixing_guard.h"
#include "hcx/model/param_specs.h"

namespace hcx::model {
namespace {

// One SwiGLU expert on its rows: x (c, d), fc (2h_e, d), proj (d, h_e) -> (c, d).
torch::Tensor swiglu_expert(const torch::Tensor& x, const torch::Tensor& fc, const torch::Tensor& proj) {
  const auto gate_up = at::linear(x, fc).chunk(2, -1);  // 2 x (c, h_e)
  return at::linear(at::silu(gate_up[0]) * gate_up[1], proj);
}

}  // namespace

ExpertLinearImpl::ExpertLinearImpl(int64_t experts, int64_t in, int64_t out) {
  weight = register_parameter("weight", torch::empty({experts, out, in}));
}

MoeImpl::MoeImpl(const config::ModelConfig& m)
    : experts(m.moe_experts), top_k(m.moe_top_k), hidden(model::moe_hidden(m)), norm_topk(m.moe_norm_topk) {
  // Registration order is the naming contract of param_specs.cpp.
  router = register_module("router", Linear(m.d_model, experts));
  c_fc = register_module("c_fc", ExpertLinear(experts, m.d_model, 2 * hidden));
  c_proj = register_module("c_proj", ExpertLinear(experts, hidden, m.d_model));
}

torch::Tensor MoeImpl::forward(const torch::Tensor& x) {
  return forward_with(x, x.is_cuda() ? MoeBackend::kPadded : MoeBackend::kLoop);
}

torch::Tensor MoeImpl::forward_with(const torch::Tensor& x, MoeBackend backend) {
  const int64_t d = x.size(-1), E = experts, k = top_k;
  const torch::Tensor X = x.reshape({-1, d});  // (N, d)
  const int64_t N = X.size(0);
  torch::Tensor w, idx;  // (N, k): combine weights (mixing dtype) and expert ids
  {
    MixingGuard fp32;  // router, softmax, top-k and the aux losses in float32 under autocast
    const auto dt = mixing_dtype(X);
    const torch::Tensor z = at::linear(X.to(dt), router->weight.to(dt));  // (N, E)
    const torch::Tensor logp = at::log_softmax(z, -1);
    const torch::Tensor p = logp.exp();  // (N, E)
    std::tie(w, idx) = at::topk(p, k, -1, /*largest=*/true, /*sorted=*/true);
    const torch::Tensor counts = at::bincount(idx.reshape({-1}), {}, E);  // (E) int64
    routing.counts = counts;
    routing.lb = double(E) / double(N * k) * (counts.to(dt) * p.mean(0)).sum();
    routing.z = at::logsumexp(z, -1).pow(2).mean();
    {
      const at::NoGradGuard no_grad;
      routing.entropy = -(p * logp).sum(-1).mean();
      routing.selected = w.sum(-1).mean();
      routing.max_logit = z.abs().max();
    }
    if (norm_topk) w = w / w.sum(-1, /*keepdim=*/true);
  }
  routing.assignments = N * k;
  // Group the N k assignments (row-major over (N, k): assignment j is token j / k) by expert.
  const torch::Tensor order = std::get<1>(at::sort(idx.reshape({-1}), /*stable=*/true, 0, /*descending=*/false));
  const torch::Tensor xs = X.index_select(0, at::div(order, k, "floor"));  // (N k, d), expert-contiguous
  const torch::Tensor counts_cpu = routing.counts.cpu();                   // the one host sync of the layer
  const torch::Tensor ys = backend == MoeBackend::kLoop
                               ? run_loop(xs, counts_cpu)
                               : run_padded(xs, idx.reshape({-1}).index_select(0, order), counts_cpu);  // (N k, d)
  MixingGuard fp32;
  const torch::Tensor ws = w.reshape({-1}).index_select(0, order);  // (N k)
  const torch::Tensor yw = ys.to(ws.scalar_type()) * ws.unsqueeze(1);
  const torch::Tensor inv = at::empty_like(order).scatter_(0, order, at::arange(N * k, order.options()));
  return yw.index_select(0, inv).view({N, k, d}).sum(1).view(x.sizes());  // back to token order, sum over slots
}

torch::Tensor MoeImpl::run_loop(const torch::Tensor& xs, const torch::Tensor& counts) {
  // unbind: per-expert views whose backward stacks the expert gradients once
  // (indexing the parameter per expert would build E full-size gradients).
  const std::vector<torch::Tensor> fc = c_fc->weight.unbind(0), proj = c_proj->weight.unbind(0);
  const auto* c = counts.data_ptr<int64_t>();
  std::vector<torch::Tensor> ys;
  int64_t offset = 0;
  for (int64_t e = 0; e < experts; ++e) {
    if (c[e] == 0) continue;
    ys.push_back(swiglu_expert(xs.narrow(0, offset, c[e]), fc[size_t(e)], proj[size_t(e)]));
    offset += c[e];
  }
  routing.computed = offset;
  return at::cat(ys, 0);
}

torch::Tensor MoeImpl::run_padded(const torch::Tensor& xs, const torch::Tensor& expert_of_row,
                                  const torch::Tensor& counts) {
  const int64_t E = experts, rows = xs.size(0), d = xs.size(1);
  const int64_t C = counts.max().item<int64_t>();                            // rows per expert after padding
  const torch::Tensor starts = (counts.cumsum(0) - counts).to(xs.device());  // (E)
  const torch::Tensor slot = at::arange(rows, expert_of_row.options()) - starts.index_select(0, expert_of_row);
  const torch::Tensor at_row = expert_of_row * C + slot;  // (N k) in [0, E C)
  const torch::Tensor xp = at::zeros({E * C, d}, xs.options()).index_copy(0, at_row, xs).view({E, C, d});
  const auto gate_up = at::bmm(xp, c_fc->weight.transpose(1, 2)).chunk(2, -1);  // 2 x (E, C, h_e)
  const torch::Tensor yp = at::bmm(at::silu(gate_up[0]) * gate_up[1], c_proj->weight.transpose(1, 2));  // (E, C, d)
  routing.computed = rows;
  return yp.reshape({E * C, d}).index_select(0, at_row);
}

}  // namespace hcx::model
