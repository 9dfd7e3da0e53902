// The MoE FFN (model.ffn "moe"), as in OLMoE (Muennighoff et al., arXiv 2409.02060), whose recipe
// the HC paper's MoE results use; docs/method.md, "The MoE FFN". E SwiGLU experts per layer and a
// router, dropless token-choice top-k routing. Tokens flattened to X (N, d), N = B T:
//   z = X W_r^T (N, E), p = softmax(z), (w, I) = topk(p, k)      router, softmax and top-k in float32
//   w not renormalised (OLMoE); model.moe_norm_topk: w / sum_s w
//   E_e(x) = c_proj_e (silu(gate_e x) * up_e x),  y_t = sum_s w_ts E_{I_ts}(x_t)
// Dropless: all N k token-expert assignments are computed (no capacity, no token dropped). The
// assignments are sorted by expert (stable: token order within an expert), each expert runs one
// GEMM on its rows (the loop backend, CPU) or all run in one padded batched GEMM (CUDA), and the
// outputs are gathered back by the inverse permutation and summed over the k slots: no
// scatter-add in the forward, so it is deterministic on CUDA too.
// Parameters (registration order = param_specs): router.weight (E, d); c_fc.weight (E, 2h_e, d),
// per expert the dense Mlp's layout (gate rows, then up); c_proj.weight (E, d, h_e). All of them
// decay and are drawn like the dense FFN's (gpt.h), so with E = k = 1 and h_e = h the layer is the
// dense SwiGLU FFN of the same seed, weights and outputs bit for bit.
// Auxiliary losses of one forward (MoeRouting), per layer over its N tokens:
//   c_e = #{(t, s): I_ts = e}, f_e = c_e / (N k), P_e = mean_t p_te,
//   L_LB = E sum_e f_e P_e          MegaBlocks' convention (OLMoE): 1.0 at balanced assignments
//   L_RZ = mean_t logsumexp_e(z_te)^2
// GptImpl::moe_aux_loss() combines the layers (model.moe_lb_weight, moe_z_weight, moe_lb_convention,
// moe_z_reduce).
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "hcx/config/run_config.h"
#include "hcx/model/layers.h"

namespace hcx::model {

// What one MoE layer's latest forward routed: the aux losses (with autograd) and what the trainer
// logs. Tensors are on the model's device.
struct MoeRouting {
  torch::Tensor lb;         // () L_LB, unscaled (1 = balanced)
  torch::Tensor z;          // () L_RZ, unscaled
  torch::Tensor counts;     // (E) int64: c_e, the assignments of each expert
  torch::Tensor entropy;    // () detached: mean_t of the router entropy -sum_e p_te log p_te (nats)
  torch::Tensor selected;   // () detached: mean_t sum_s w_ts, the routed mass (< 1 unless renormalised)
  torch::Tensor max_logit;  // () detached: max |z|
  int64_t assignments = 0;  // N k
  int64_t computed = 0;     // assignments the experts computed: == assignments (dropless)
};

// How the experts run: one GEMM per expert with tokens (loop; the CPU path in float32), the same
// with each expert's rows zero-padded to a multiple of kMoeBucket (bucketed; the CPU path under
// bfloat16 autocast), or one zero-padded batched GEMM over all experts (padded; the CUDA path,
// padding every expert to the most loaded one). All compute the same function.
// Why bucketed: bf16 GEMMs on CPU run in oneDNN, which JIT-compiles a kernel per new shape
// (~2 ms each), and the experts' row counts change every step: unbucketed, a d 128 MoE step
// spent 90 % of its time compiling (bench/README.md, "The residual-variant zoo").
enum class MoeBackend { kLoop, kBucketed, kPadded };
inline constexpr int64_t kMoeBucket = 64;

// The backend forward() uses for x: padded on CUDA, bucketed on CPU under autocast, else loop.
MoeBackend moe_backend_for(const torch::Tensor& x);

// E stacked weight matrices (E, out, in), each laid out as a Linear's (out, in).
struct ExpertLinearImpl : torch::nn::Module {
  ExpertLinearImpl(int64_t experts, int64_t in, int64_t out);
  torch::Tensor weight;
};
TORCH_MODULE(ExpertLinear);

class MoeImpl : public torch::nn::Module {
 public:
  explicit MoeImpl(const config::ModelConfig& m);

  // x (..., d) -> (..., d) with moe_backend_for(x); sets `routing`.
  // The output is in the mixing dtype (float32 under autocast), like the combine weights.
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor forward_with(const torch::Tensor& x, MoeBackend backend);

  int64_t experts, top_k, hidden;
  bool norm_topk;
  Linear router{nullptr};
  ExpertLinear c_fc{nullptr}, c_proj{nullptr};
  MoeRouting routing;  // of the latest forward

 private:
  // Expert outputs (N k, d) of the rows xs (N k, d), sorted by expert with `counts` (E) on the CPU.
  // `bucket`: rows per expert padded to a multiple of it (1: none).
  torch::Tensor run_loop(const torch::Tensor& xs, const torch::Tensor& counts, int64_t bucket);
  torch::Tensor run_padded(const torch::Tensor& xs, const torch::Tensor& expert_of_row, const torch::Tensor& counts);
};
TORCH_MODULE(Moe);

}  // namespace hcx::model
