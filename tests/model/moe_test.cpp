// The MoE FFN (moe.h): routing and outputs against a naive per-token loop
// (both backends, double precision, with idle experts), the aux losses at
// balanced and skewed routing, dropless routing, top-k = E against a dense
// FFN, E = k = 1 against the dense SwiGLU model through training, every
// residual variant routing as Pre-Norm at init, and the parameter contract.
#include "hcx/model/moe.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/optim/adamw.h>

#include "hcx/model/gpt.h"
#include "hcx/model/param_specs.h"
#include "model/tiny.h"

namespace hcx::model {
namespace {

using testing::max_abs_diff;
using testing::tiny;

config::ModelConfig moe_model(int64_t d, int64_t experts, int64_t top_k, int64_t hidden) {
  config::ModelConfig m;
  m.d_model = d;
  m.ffn = "moe";
  m.moe_experts = experts;
  m.moe_top_k = top_k;
  m.moe_hidden = hidden;
  return m;
}

// A double-precision layer with normal(0, std) weights from `seed`.
Moe double_moe(const config::ModelConfig& m, double std = 0.5, uint64_t seed = 4) {
  Moe moe(m);
  moe->to(at::kDouble);
  const at::NoGradGuard no_grad;
  at::Generator gen = at::detail::createCPUGenerator(seed);
  for (auto& p : moe->parameters()) p.copy_(at::normal(0.0, std, p.sizes(), gen));
  return moe;
}

// The layer written out token by token: softmax, top-k by a full sort, the
// chosen experts one at a time. x (N, d) -> (N, d); ids (N, k) the choice.
torch::Tensor naive_moe(MoeImpl& moe, const torch::Tensor& x, std::vector<std::vector<int64_t>>* ids = nullptr) {
  std::vector<torch::Tensor> rows;
  for (int64_t t = 0; t < x.size(0); ++t) {
    const torch::Tensor xt = x[t];                                           // (d)
    const torch::Tensor p = at::softmax(at::mv(moe.router->weight, xt), 0);  // (E)
    std::vector<int64_t> order(static_cast<size_t>(moe.experts));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&p](int64_t a, int64_t b) { return p[a].item<double>() > p[b].item<double>(); });
    order.resize(static_cast<size_t>(moe.top_k));
    torch::Tensor mass = at::zeros({}, x.options());
    for (int64_t e : order) mass = mass + p[e];
    torch::Tensor y = at::zeros_like(xt);
    for (int64_t e : order) {
      const torch::Tensor fc = moe.c_fc->weight[e], proj = moe.c_proj->weight[e];  // (2h_e, d), (d, h_e)
      const torch::Tensor u = at::mv(fc, xt);
      const torch::Tensor hidden = at::silu(u.narrow(0, 0, moe.hidden)) * u.narrow(0, moe.hidden, moe.hidden);
      const torch::Tensor w = moe.norm_topk ? p[e] / mass : p[e];
      y = y + w * at::mv(proj, hidden);
    }
    rows.push_back(y);
    if (ids != nullptr) ids->push_back(order);
  }
  return at::stack(rows, 0);
}

std::vector<int64_t> counts_of(const torch::Tensor& counts) {
  const torch::Tensor c = counts.to(at::kCPU).contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

TEST(Moe, RoutingAndGradientsEqualANaivePerTokenLoop) {
  at::Generator gen = at::detail::createCPUGenerator(9);
  for (const bool renorm : {false, true}) {
    for (const MoeBackend backend : {MoeBackend::kLoop, MoeBackend::kBucketed, MoeBackend::kPadded}) {
      auto m = moe_model(8, 6, 2, 5);
      m.moe_norm_topk = renorm;
      Moe moe = double_moe(m);
      // 5 tokens, 10 assignments over 6 experts: most runs leave an expert idle.
      const torch::Tensor x = at::normal(0.0, 1.0, {1, 5, 8}, gen).to(at::kDouble).requires_grad_(true);
      const torch::Tensor got = moe->forward_with(x, backend);
      std::vector<std::vector<int64_t>> ids;
      const torch::Tensor want = naive_moe(*moe, x.view({5, 8}), &ids).view({1, 5, 8});
      EXPECT_LT(max_abs_diff(got, want), 1e-13) << "renorm " << renorm;
      std::vector<int64_t> naive_counts(6, 0);
      for (const auto& row : ids)
        for (int64_t e : row) ++naive_counts[static_cast<size_t>(e)];
      EXPECT_EQ(counts_of(moe->routing.counts), naive_counts);

      std::vector<torch::Tensor> inputs{x};
      for (const auto& p : moe->parameters()) inputs.push_back(p);
      const torch::Tensor g = at::normal(0.0, 1.0, {1, 5, 8}, gen).to(at::kDouble);
      const auto got_grads = torch::autograd::grad({(got * g).sum()}, inputs, {}, {}, false, /*allow_unused=*/true);
      const auto want_grads = torch::autograd::grad({(want * g).sum()}, inputs, {}, {}, false, true);
      for (size_t i = 0; i < inputs.size(); ++i) {
        ASSERT_TRUE(got_grads[i].defined()) << "input " << i;
        ASSERT_TRUE(want_grads[i].defined()) << "input " << i;
        EXPECT_LT(max_abs_diff(got_grads[i], want_grads[i]), 1e-12) << "input " << i << " renorm " << renorm;
      }
    }
  }
}

TEST(Moe, BackendsAgreeWithIdleExperts) {
  // Every token prefers expert 2 and then expert 0: four experts get nothing.
  auto m = moe_model(4, 6, 2, 3);
  Moe moe = double_moe(m);
  {
    const at::NoGradGuard no_grad;
    moe->router->weight.zero_();
    moe->router->weight[2][0] = 5.0;
    moe->router->weight[0][0] = 2.0;
  }
  at::Generator gen = at::detail::createCPUGenerator(2);
  const torch::Tensor x = (at::rand({2, 4, 4}, gen).to(at::kDouble) + 1.0);  // x_0 > 0
  const torch::Tensor loop = moe->forward_with(x, MoeBackend::kLoop);
  EXPECT_EQ(counts_of(moe->routing.counts), (std::vector<int64_t>{8, 0, 8, 0, 0, 0}));
  const torch::Tensor padded = moe->forward_with(x, MoeBackend::kPadded);
  EXPECT_LT(max_abs_diff(loop, padded), 1e-14);
  const torch::Tensor bucketed = moe->forward_with(x, MoeBackend::kBucketed);
  EXPECT_LT(max_abs_diff(loop, bucketed), 1e-14);
  EXPECT_EQ(moe->routing.computed, 16);  // the padding rows are not counted as computed assignments
  EXPECT_LT(max_abs_diff(loop, naive_moe(*moe, x.view({8, 4})).view({2, 4, 4})), 1e-13);
}

TEST(Moe, Bf16AutocastOnCpuRunsTheBucketedLoopAndAgreesWithTheLoop) {
  // Under autocast each expert's rows are padded to a multiple of kMoeBucket: oneDNN then sees a
  // few GEMM shapes instead of a new one per expert and step. Same function as the plain loop.
  Moe moe = double_moe(moe_model(32, 8, 2, 24), 0.3);
  moe->to(at::kFloat);  // autocast casts float32, not float64
  at::Generator gen = at::detail::createCPUGenerator(4);
  const torch::Tensor x = at::normal(0.0, 1.0, {3, 50, 32}, gen);  // 300 assignments: no expert fills a bucket
  EXPECT_EQ(moe_backend_for(x), MoeBackend::kLoop);
  testing::set_bf16_autocast(c10::DeviceType::CPU, true);
  EXPECT_EQ(moe_backend_for(x), MoeBackend::kBucketed);
  const torch::Tensor via_forward = moe->forward(x);
  const torch::Tensor bucketed = moe->forward_with(x, MoeBackend::kBucketed);
  const torch::Tensor loop = moe->forward_with(x, MoeBackend::kLoop);
  testing::set_bf16_autocast(c10::DeviceType::CPU, false);
  EXPECT_TRUE(torch::equal(via_forward, bucketed));
  EXPECT_EQ(moe->routing.computed, 300);
  // bf16 GEMMs of other row counts may round differently: within bf16's precision of the output.
  EXPECT_GT(loop.abs().max().item<double>(), 0.1);
  EXPECT_LT(max_abs_diff(bucketed, loop), 2e-2 * loop.abs().max().item<double>());
}

TEST(Moe, LoadBalancingLossIsOneForBalancedRouting) {
  // L_LB = E sum_e f_e P_e: f_e = 1/E gives sum_e P_e = 1 whatever the
  // probabilities. Token t prefers expert t mod 4 (then t+1 mod 4).
  for (const int64_t k : {1, 2}) {
    Moe moe = double_moe(moe_model(4, 4, k, 3));
    {
      const at::NoGradGuard no_grad;
      moe->router->weight.copy_(at::eye(4, at::kDouble) * 3.0 + at::eye(4, at::kDouble).roll(1, 0));
    }
    torch::Tensor x = at::zeros({8, 4}, at::kDouble);
    for (int64_t t = 0; t < 8; ++t) x[t][t % 4] = 1.0 + 0.1 * double(t);
    moe->forward(x);
    EXPECT_EQ(counts_of(moe->routing.counts), std::vector<int64_t>(4, 2 * k)) << "k " << k;
    EXPECT_NEAR(moe->routing.lb.item<double>(), 1.0, 1e-15) << "k " << k;
  }
  // Skewed: every assignment to expert 0, so L_LB = E P_0 (> 1, up to E).
  Moe moe = double_moe(moe_model(4, 4, 1, 3));
  {
    const at::NoGradGuard no_grad;
    moe->router->weight.zero_();
    moe->router->weight[0][0] = 2.0;
  }
  const torch::Tensor x = at::rand({6, 4}, at::kDouble) + 1.0;
  moe->forward(x);
  const torch::Tensor p = at::softmax(at::matmul(x, moe->router->weight.t()), -1);  // (6, 4)
  EXPECT_NEAR(moe->routing.lb.item<double>(), 4.0 * p.select(1, 0).mean().item<double>(), 1e-14);
  EXPECT_GT(moe->routing.lb.item<double>(), 2.0);
  const torch::Tensor lse = at::logsumexp(at::matmul(x, moe->router->weight.t()), -1);
  EXPECT_NEAR(moe->routing.z.item<double>(), lse.pow(2).mean().item<double>(), 1e-14);
  EXPECT_NEAR(moe->routing.entropy.item<double>(), -(p * p.log()).sum(-1).mean().item<double>(), 1e-14);
  EXPECT_NEAR(moe->routing.selected.item<double>(), p.select(1, 0).mean().item<double>(), 1e-14);
}

TEST(Moe, DroplessRoutingComputesEveryAssignmentUnderAnySkew) {
  // All 24 tokens pick expert 0 first: a capacity of k N / E = 12 per expert
  // would drop half of them. Every token still gets its full output.
  auto m = moe_model(4, 4, 2, 3);
  Moe moe = double_moe(m);
  {
    const at::NoGradGuard no_grad;
    moe->router->weight[0].fill_(3.0);
  }
  const torch::Tensor x = at::rand({3, 8, 4}, at::kDouble) + 1.0;
  const torch::Tensor y = moe->forward(x);
  EXPECT_EQ(counts_of(moe->routing.counts)[0], 24);
  EXPECT_EQ(moe->routing.assignments, 48);
  EXPECT_EQ(moe->routing.computed, 48);
  EXPECT_LT(max_abs_diff(y, naive_moe(*moe, x.view({24, 4})).view({3, 8, 4})), 1e-13);
}

TEST(Moe, TopKOfAllExpertsIsADenseFfnOfTheSameWeights) {
  // k = E: every expert runs for every token, y = sum_e p_e E_e(x): a dense
  // SwiGLU FFN of hidden E h_e (the experts' matrices side by side) whose
  // hidden units of expert e are scaled by p_e.
  const int64_t E = 4, he = 3, d = 6;
  Moe moe = double_moe(moe_model(d, E, E, he));
  const torch::Tensor x = at::rand({2, 5, d}, at::kDouble) - 0.5;
  const torch::Tensor X = x.view({10, d});
  const torch::Tensor fc = moe->c_fc->weight;  // (E, 2h_e, d)
  const torch::Tensor gate = fc.narrow(1, 0, he).reshape({E * he, d}), up = fc.narrow(1, he, he).reshape({E * he, d});
  const torch::Tensor proj = moe->c_proj->weight.permute({1, 0, 2}).reshape({d, E * he});  // [proj_0 | proj_1 | ...]
  const torch::Tensor p = at::softmax(at::matmul(X, moe->router->weight.t()), -1);         // (10, E)
  const torch::Tensor hidden = at::silu(at::matmul(X, gate.t())) * at::matmul(X, up.t());  // (10, E h_e)
  const torch::Tensor want = at::matmul(hidden * p.repeat_interleave(he, 1), proj.t());
  EXPECT_LT(max_abs_diff(moe->forward(x).view({10, d}), want), 1e-13);
  EXPECT_NEAR(moe->routing.selected.item<double>(), 1.0, 1e-15);
}

TEST(Moe, OneExpertTrainsExactlyLikeTheDenseSwiGluModel) {
  // E = k = 1, h_e = h: the same names draw the same weights, the weight is
  // softmax of one logit = 1 exactly, and L_LB = P_0 = 1 has an exactly zero
  // gradient. Same losses, step after step. (The z-loss would train too: its
  // gradient reaches the FFN's input through the router, so it is off here.)
  auto dense = tiny("pre_norm");
  auto moe = dense;
  moe.model.ffn = "moe";
  moe.model.moe_experts = moe.model.moe_top_k = 1;
  moe.model.moe_z_weight = 0.0;
  EXPECT_EQ(moe_hidden(moe.model), ffn_hidden(dense.model));
  for (const char* kind : {"pre_norm", "hc"}) {
    dense.residual.kind = moe.residual.kind = kind;
    Gpt a(dense), b(moe);
    EXPECT_TRUE(torch::equal((*a->h)[0]->as<BlockImpl>()->mlp->c_fc->weight,
                             (*b->h)[0]->as<BlockImpl>()->moe->c_fc->weight.select(0, 0)));
    torch::optim::AdamW opt_a(a->parameters(), torch::optim::AdamWOptions(1e-2));
    torch::optim::AdamW opt_b(b->parameters(), torch::optim::AdamWOptions(1e-2));
    for (int step = 0; step < 5; ++step) {
      const torch::Tensor x = testing::tokens(2, 8, 32, 10 + step), y = testing::tokens(2, 8, 32, 20 + step);
      opt_a.zero_grad();
      opt_b.zero_grad();
      const torch::Tensor la = a->loss(x, y), lb = b->loss(x, y);
      EXPECT_EQ(la.item<double>(), lb.item<double>()) << kind << " step " << step;
      const torch::Tensor aux = b->moe_aux_loss();
      EXPECT_EQ(b->moe_routing()[0]->lb.item<double>(), 1.0);
      la.backward();
      (lb + aux).backward();
      opt_a.step();
      opt_b.step();
    }
  }
}

TEST(Moe, EveryResidualVariantRoutesAsPreNormAtInit) {
  // VARIANTS.md 2.5: identical h0 at init gives identical routing, logits and aux losses.
  const torch::Tensor idx = testing::tokens(2, 8);
  auto with_moe = [](config::RunConfig c) {
    c.model.norm_eps = 0.0;  // HC's sum reduce then equals Pre-Norm (gpt_test's HcAtInitEqualsPreNorm)
    c.model.ffn = "moe";
    c.model.moe_experts = 4;
    return c;
  };
  Gpt pre(with_moe(tiny("pre_norm")));
  const torch::Tensor want = pre->forward(idx);
  const auto want_routing = pre->moe_routing();
  const double want_aux = pre->moe_aux_loss().item<double>();
  for (const auto& c : {tiny("hc", 4, false), tiny("hc", 4, true), tiny("frac", 4, true), tiny("denseformer"),
                        tiny("mudd"), tiny("laurel")}) {
    Gpt m(with_moe(c));
    const torch::Tensor got = m->forward(idx);
    EXPECT_LT(max_abs_diff(got, want), c.residual.kind == "hc" ? 1e-5 : 1e-6) << c.residual.kind;
    const auto routing = m->moe_routing();
    ASSERT_EQ(routing.size(), 2u);
    for (size_t l = 0; l < routing.size(); ++l) {
      EXPECT_EQ(counts_of(routing[l]->counts), counts_of(want_routing[l]->counts)) << c.residual.kind << " " << l;
      EXPECT_NEAR(routing[l]->lb.item<double>(), want_routing[l]->lb.item<double>(), 1e-6) << c.residual.kind;
      EXPECT_NEAR(routing[l]->z.item<double>(), want_routing[l]->z.item<double>(), 1e-6) << c.residual.kind;
    }
    EXPECT_NEAR(m->moe_aux_loss().item<double>(), want_aux, 1e-7) << c.residual.kind;
  }
}

TEST(Moe, AuxLossCombinesTheLayersAsConfigured) {
  auto c = tiny("pre_norm");
  c.model.ffn = "moe";
  c.model.moe_experts = 4;
  c.model.moe_top_k = 2;
  const torch::Tensor idx = testing::tokens(2, 8);
  const auto aux_of = [&idx](const config::RunConfig& cfg, double* lb, double* z) {
    Gpt m(cfg);
    m->forward(idx);
    *lb = *z = 0;
    for (const auto* r : m->moe_routing()) {
      *lb += r->lb.item<double>();
      *z += r->z.item<double>();
    }
    return m->moe_aux_loss().item<double>();
  };
  double lb = 0, z = 0;
  const double aux = aux_of(c, &lb, &z);
  EXPECT_NEAR(aux, 0.01 * lb / 2 + 0.001 * z / 2, 1e-8);  // megablocks, mean over the 2 layers
  EXPECT_GT(lb / 2, 0.99);                                // near balanced at init
  auto hf = c;
  hf.model.moe_lb_convention = "hf";
  hf.model.moe_z_reduce = "sum";
  hf.model.moe_lb_weight = 0.5;
  const double aux_hf = aux_of(hf, &lb, &z);
  EXPECT_NEAR(aux_hf, 0.5 * 2 * lb / 2 + 0.001 * z, 1e-6);  // k times, and summed over layers
}

TEST(Moe, ParametersFollowTheNamingContractUnderEveryVariant) {
  for (const char* kind : {"pre_norm", "post_norm", "hc", "mhc", "frac", "laurel", "denseformer", "mudd"}) {
    auto c = tiny(kind, 2, true);
    c.model.ffn = "moe";
    c.model.moe_experts = 3;
    c.model.moe_top_k = 2;
    Gpt m(c);
    const auto specs = param_specs(c);
    const auto params = named_params(*m);
    ASSERT_EQ(params.size(), specs.size()) << kind;
    for (size_t i = 0; i < specs.size(); ++i) {
      EXPECT_EQ(params[i].name, specs[i].name) << kind;
      EXPECT_EQ(params[i].tensor.sizes().vec(), specs[i].shape) << specs[i].name;
      EXPECT_EQ(params[i].group, specs[i].group) << specs[i].name;
      EXPECT_TRUE(params[i].decays || params[i].group != ParamGroup::kFfn) << specs[i].name;
    }
    // Router (E, d), experts (E, 2h_e, d) and (E, d, h_e); h_e = ceil(48 / 2) for d 16.
    const auto mlp = [&m](const std::string& leaf) { return m->named_parameters()["h.1.mlp." + leaf].sizes().vec(); };
    EXPECT_EQ(mlp("router.weight"), (std::vector<int64_t>{3, 16}));
    EXPECT_EQ(mlp("c_fc.weight"), (std::vector<int64_t>{3, 48, 16}));
    EXPECT_EQ(mlp("c_proj.weight"), (std::vector<int64_t>{3, 16, 24}));
    // Trains: every expert with tokens gets a gradient; the router always does.
    m->loss(testing::tokens(4, 8), testing::tokens(4, 8, 32, 2)).backward();
    EXPECT_GT(m->named_parameters()["h.0.mlp.router.weight"].grad().abs().max().item<double>(), 0.0) << kind;
  }
}

}  // namespace
}  // namespace hcx::model
