// LAuReL (laurel.h): Pre-Norm bit for bit at init, the update and its
// gradients against the formula written out (double precision), the
// column-orthogonal init of A and the parameter counts.
#include "hcx/model/laurel.h"

#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

#include "hcx/model/gpt.h"
#include "hcx/model/param_specs.h"
#include "model/tiny.h"

namespace hcx::model {
namespace {

using testing::max_abs_diff;
using testing::tiny;

config::RunConfig laurel(int64_t rank) {
  auto c = tiny("laurel");
  c.residual.laurel_rank = rank;
  return c;
}

TEST(Laurel, AtInitTheModelIsPreNormBitForBit) {
  const torch::Tensor idx = testing::tokens(2, 8);
  for (const char* norm : {"layernorm", "rmsnorm"}) {
    auto pre = tiny("pre_norm");
    pre.model.norm = norm;
    for (int64_t rank : {0, 1, 4, 16}) {
      auto c = laurel(rank);
      c.model.norm = norm;
      EXPECT_TRUE(torch::equal(Gpt(c)->forward(idx), Gpt(pre)->forward(idx))) << norm << " rank " << rank;
    }
  }
}

TEST(Laurel, UpdateAndGradientsEqualTheFormula) {
  // x' = a f(x) + b (x + x A B), (a, b) = 2 exp(w) / (exp(w_0) + exp(w_1)).
  const int64_t d = 16;
  at::Generator gen = at::detail::createCPUGenerator(5);
  const torch::Tensor W = at::normal(0.0, 0.5, {d, d}, gen).to(at::kDouble);
  const Sublayer f = [&W](const torch::Tensor& x) { return at::tanh(at::matmul(x, W)); };
  for (int64_t rank : {0, 3}) {
    LaurelImpl l(laurel(rank));
    l.to(at::kDouble);
    {
      const at::NoGradGuard no_grad;
      for (auto& p : l.parameters()) p.add_(at::normal(0.0, 0.3, p.sizes(), gen).to(at::kDouble));
    }
    const torch::Tensor x = at::normal(0.0, 1.0, {2, 3, d}, gen).to(at::kDouble).requires_grad_(true);
    const torch::Tensor e = at::exp(l.rw), a = 2 * e[0] / e.sum(), b = 2 * e[1] / e.sum();
    torch::Tensor skip = x;
    if (rank > 0) skip = x + at::matmul(at::matmul(x, l.lr_a), l.lr_b);
    const torch::Tensor want = a * f(x) + b * skip;
    const torch::Tensor got = l.forward(x, f);
    EXPECT_LT(max_abs_diff(got, want), 1e-13) << "rank " << rank;
    std::vector<torch::Tensor> inputs{x};
    for (const auto& p : l.parameters()) inputs.push_back(p);
    const torch::Tensor g = at::normal(0.0, 1.0, {2, 3, d}, gen).to(at::kDouble);
    const auto dg = torch::autograd::grad({got}, inputs, {g}), dw = torch::autograd::grad({want}, inputs, {g});
    for (size_t i = 0; i < inputs.size(); ++i) EXPECT_LT(max_abs_diff(dg[i], dw[i]), 1e-12) << "input " << i;
  }
}

TEST(Laurel, LowRankMapStartsColumnOrthogonalAndZero) {
  const int64_t d = 16, r = 4;
  LaurelImpl l(laurel(r));
  EXPECT_TRUE(torch::equal(l.gains(), torch::ones({2})));
  EXPECT_TRUE(torch::equal(l.lr_b, torch::zeros({r, d})));
  // A[i][j] = 1/sqrt(rd) for i mod r = j: A^T A = (d/r)/(rd) I = I/r^2.
  EXPECT_TRUE(torch::allclose(at::matmul(l.lr_a.t(), l.lr_a), torch::eye(r) / double(r * r)));
  EXPECT_FLOAT_EQ(l.lr_a[5][1].item<float>(), float(1.0 / std::sqrt(double(r * d))));
  EXPECT_EQ(l.lr_a[5][2].item<float>(), 0.0f);
}

TEST(Laurel, ParameterCountsAndDecay) {
  // RW: 2 per sublayer; RW+LR: 2 + 2rd. The scalars do not decay, A and B do.
  EXPECT_EQ(mixer_params(laurel(0)), 2);
  EXPECT_EQ(mixer_params(laurel(4)), 2 + 2 * 4 * 16);
  for (const auto& p : param_specs(laurel(4))) {
    if (!is_hc_param(p.name)) continue;
    EXPECT_EQ(p.decays, p.name.find(".rw") == std::string::npos) << p.name;
  }
}

}  // namespace
}  // namespace hcx::model
