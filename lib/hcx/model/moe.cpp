// The MoE FFN (see moe.h). Shapes: N = B T tokens, d = d_model, E experts, k = top_k,
// h_e = expert hidden width.
#include "hcx/model/moe.h"

#include <tuple>
#include <vector>

#include <ATen/ATen.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/types.h>

#include "hcx/model/fused.h"
#include "hcx/model/mixing_guard.h"
#include "hcx/model/param_specs.h"

namespace hcx::model {
namespace {

// One SwiGLU expert on its rows: x (c, d), fc (2h_e, d), proj (d, h_e) -> (c, d).
torch::Tensor swiglu_expert(const torch::Tensor& x, const torch::Tensor& fc, const torch::Tensor& proj) {
  return at::linear(swiglu(at::linear(x, fc)), proj);  // silu(gate) * up: (c, h_e), as the dense MLP
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

MoeBackend moe_backend_for(const torch::Tensor& x) {
  if (x.is_cuda()) return MoeBackend::kPadded;
  // CPU autocast is on where its key is not excluded (how at::autocast tests it, in 1.13 and 2.x).
  const bool autocast = !c10::impl::tls_is_dispatch_key_excluded(c10::DispatchKey::AutocastCPU);
  return autocast ? MoeBackend::kBucketed : MoeBackend::kLoop;
}

torch::Tensor MoeImpl::forward(const torch::Tensor& x) { return forward_with(x, moe_backend_for(x)); }

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
  const torch::Tensor ys =
      backend == MoeBackend::kPadded
          ? run_padded(xs, idx.reshape({-1}).index_select(0, order), counts_cpu)
          : run_loop(xs, counts_cpu, backend == MoeBackend::kBucketed ? kMoeBucket : 1);  // (N k, d)
  MixingGuard fp32;
  const torch::Tensor ws = w.reshape({-1}).index_select(0, order);  // (N k)
  const torch::Tensor yw = ys.to(ws.scalar_type()) * ws.unsqueeze(1);
  const torch::Tensor inv = at::empty_like(order).scatter_(0, order, at::arange(N * k, order.options()));
  return yw.index_select(0, inv).view({N, k, d}).sum(1).view(x.sizes());  // back to token order, sum over slots
}

torch::Tensor MoeImpl::run_loop(const torch::Tensor& xs, const torch::Tensor& counts, int64_t bucket) {
  // unbind: per-expert views whose backward stacks the expert gradients once
  // (indexing the parameter per expert would build E full-size gradients).
  const std::vector<torch::Tensor> fc = c_fc->weight.unbind(0), proj = c_proj->weight.unbind(0);
  const auto* c = counts.data_ptr<int64_t>();
  // Expert e's rows start at padded offset `start`, c_e of them, then zeros up to `rows`.
  std::vector<int64_t> start(static_cast<size_t>(experts)), rows(static_cast<size_t>(experts));
  int64_t total = 0;
  for (int64_t e = 0; e < experts; ++e) {
    start[size_t(e)] = total;
    rows[size_t(e)] = (c[e] + bucket - 1) / bucket * bucket;
    total += rows[size_t(e)];
  }
  torch::Tensor xp = xs, at_row;  // at_row (N k): the padded row of each sorted row
  if (bucket > 1) {
    at_row = at::empty({xs.size(0)}, counts.options());
    int64_t* a = at_row.data_ptr<int64_t>();
    for (int64_t e = 0, j = 0; e < experts; ++e) {
      for (int64_t i = 0; i < c[e]; ++i) a[j++] = start[size_t(e)] + i;
    }
    at_row = at_row.to(xs.device());
    xp = at::zeros({total, xs.size(1)}, xs.options()).index_copy(0, at_row, xs);
  }
  std::vector<torch::Tensor> ys;
  for (int64_t e = 0; e < experts; ++e) {
    if (c[e] == 0) continue;
    ys.push_back(swiglu_expert(xp.narrow(0, start[size_t(e)], rows[size_t(e)]), fc[size_t(e)], proj[size_t(e)]));
  }
  routing.computed = counts.sum().item<int64_t>();  // the rows with a token; padding rows are not assignments
  const torch::Tensor y = at::cat(ys, 0);
  return bucket > 1 ? y.index_select(0, at_row) : y;
}

torch::Tensor MoeImpl::run_padded(const torch::Tensor& xs, const torch::Tensor& expert_of_row,
                                  const torch::Tensor& counts) {
  const int64_t E = experts, rows = xs.size(0), d = xs.size(1);
  const int64_t C = counts.max().item<int64_t>();                            // rows per expert after padding
  const torch::Tensor starts = (counts.cumsum(0) - counts).to(xs.device());  // (E)
  const torch::Tensor slot = at::arange(rows, expert_of_row.options()) - starts.index_select(0, expert_of_row);
  const torch::Tensor at_row = expert_of_row * C + slot;  // (N k) in [0, E C)
  const torch::Tensor xp = at::zeros({E * C, d}, xs.options()).index_copy(0, at_row, xs).view({E, C, d});
  const torch::Tensor u = at::bmm(xp, c_fc->weight.transpose(1, 2));            // (E, C, 2h_e) = [gate | up]
  const torch::Tensor yp = at::bmm(swiglu(u), c_proj->weight.transpose(1, 2));  // (E, C, d)
  routing.computed = rows;
  return yp.reshape({E * C, d}).index_select(0, at_row);
}

}  // namespace hcx::model
