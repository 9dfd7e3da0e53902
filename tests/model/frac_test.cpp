// Frac-Connections (frac.h): the Pre-Norm function at init bit for bit, the
// forward and its gradients against a plain per-fraction reference (double
// precision), fractions moved where [Y | A] says (the public implementation's
// bug), FC with one fraction = HC with one stream, the paper's parameter
// counts, decay, freezing and the trace.
#include "hcx/model/frac.h"

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/optim/adamw.h>

#include "hcx/model/gpt.h"
#include "hcx/model/inspect.h"
#include "hcx/model/param_specs.h"
#include "model/tiny.h"

namespace hcx::model {
namespace {

using testing::max_abs_diff;
using testing::tiny;

config::RunConfig frac(int64_t m, bool dynamic = true) { return tiny("frac", m, dynamic); }

std::string describe(const config::RunConfig& c) {
  const auto& r = c.residual;
  return "m=" + std::to_string(r.n) + (r.dynamic ? " DFC" : " SFC") + (r.tanh ? "" : " no-tanh") +
         (r.dynamic_norm ? "" : " no-norm") + (r.dynamic_scale ? "" : " no-scale") + " " + c.model.norm;
}

// Every switch combination of FC at frac rate m, with layernorm and rmsnorm.
std::vector<config::RunConfig> frac_variants(int64_t m) {
  std::vector<config::RunConfig> out{frac(m, false)};
  for (bool use_tanh : {true, false}) {
    for (bool use_norm : {true, false}) {
      for (bool use_scale : {true, false}) {
        auto c = frac(m, true);
        c.residual.tanh = use_tanh;
        c.residual.dynamic_norm = use_norm;
        c.residual.dynamic_scale = use_scale;
        out.push_back(c);
      }
    }
  }
  for (size_t i = 0, n = out.size(); i < n; ++i) {
    auto c = out[i];
    c.model.norm = "rmsnorm";
    out.push_back(c);
  }
  return out;
}

TEST(FracConnection, AtInitTheModelIsPreNormBitForBit) {
  // frac.h: B = 1, Y = A = I and zero dynamic terms are exact in IEEE
  // arithmetic, and no stream sum precedes the final norm: tolerance 0.
  const torch::Tensor idx = testing::tokens(2, 8);
  for (const char* norm : {"layernorm", "rmsnorm"}) {
    auto base = tiny("pre_norm");
    base.model.norm = norm;
    const torch::Tensor want = Gpt(base)->forward(idx);
    for (int64_t m : {1, 2, 4, 8}) {
      for (auto c : frac_variants(m)) {
        if (c.model.norm != norm) continue;
        EXPECT_TRUE(torch::equal(Gpt(c)->forward(idx), want)) << describe(c);
      }
    }
  }
}

// The FC update written out per fraction with plain ops (frac.h's equations), on the module's parameters.
torch::Tensor reference(FracConnectionImpl& fc, const torch::Tensor& x, const Sublayer& f, double eps, bool rms) {
  const int64_t m = fc.m(), e = x.size(-1) / m;
  std::vector<torch::Tensor> fr, alpha, beta;  // f_i (B, T, e); alpha_i (B, T, 2m) or (2m); beta_i (B, T) or ()
  for (int64_t i = 0; i < m; ++i) fr.push_back(x.narrow(-1, i * e, e));
  for (int64_t i = 0; i < m; ++i) {
    torch::Tensor a = fc.static_alpha[i], b = fc.static_beta[i];
    if (fc.dynamic) {
      torch::Tensor fb = fr[size_t(i)];
      if (fc.use_norm) {
        if (rms) {
          fb = fb / at::sqrt(fb.pow(2).mean(-1, true) + eps) * fc.norm->weight;
        } else {
          const torch::Tensor c = fb - fb.mean(-1, true);
          fb = c / at::sqrt(c.pow(2).mean(-1, true) + eps);
        }
      }
      torch::Tensor p = at::matmul(fb, fc.dynamic_alpha_fn), q = (fb * fc.dynamic_beta_fn).sum(-1);
      if (fc.use_tanh) p = at::tanh(p), q = at::tanh(q);
      if (fc.use_scale) p = fc.dynamic_alpha_scale * p, q = fc.dynamic_beta_scale * q;
      a = a + p;
      b = b + q;
    }
    alpha.push_back(a);
    beta.push_back(b);
  }
  std::vector<torch::Tensor> mix;  // mix_j = sum_i alpha_i[j] f_i
  for (int64_t j = 0; j < 2 * m; ++j) {
    torch::Tensor s = at::zeros_like(fr[0]);
    for (int64_t i = 0; i < m; ++i) s = s + alpha[size_t(i)].select(-1, j).unsqueeze(-1) * fr[size_t(i)];
    mix.push_back(s);
  }
  const torch::Tensor y = f(at::cat(std::vector<torch::Tensor>(mix.begin(), mix.begin() + m), -1));
  std::vector<torch::Tensor> out;
  for (int64_t j = 0; j < m; ++j)
    out.push_back(beta[size_t(j)].unsqueeze(-1) * y.narrow(-1, j * e, e) + mix[size_t(m + j)]);
  return at::cat(out, -1);
}

TEST(FracConnection, ForwardAndGradientsEqualAPlainReferenceInDoublePrecision) {
  const int64_t d = 16;
  at::Generator gen = at::detail::createCPUGenerator(11);
  const torch::Tensor W = at::normal(0.0, 0.5, {d, d}, gen).to(at::kDouble);
  const Sublayer f = [&W](const torch::Tensor& h0) { return at::tanh(at::matmul(h0, W)); };
  for (int64_t m : {1, 2, 4, 8}) {
    for (const auto& c : frac_variants(m)) {
      FracConnectionImpl fc(c);
      fc.to(at::kDouble);
      {
        const at::NoGradGuard no_grad;  // away from init: every term matters
        for (auto& p : fc.parameters()) p.add_(at::normal(0.0, 0.3, p.sizes(), gen).to(at::kDouble));
      }
      const torch::Tensor x = at::normal(0.0, 1.0, {2, 3, d}, gen).to(at::kDouble).requires_grad_(true);
      const torch::Tensor g = at::normal(0.0, 1.0, {2, 3, d}, gen).to(at::kDouble);
      std::vector<torch::Tensor> inputs{x};
      for (const auto& p : fc.parameters()) inputs.push_back(p);
      const torch::Tensor got = fc.forward(x, f);
      const torch::Tensor want = reference(fc, x, f, c.model.norm_eps, c.model.norm == "rmsnorm");
      ASSERT_EQ(got.sizes(), want.sizes());
      EXPECT_LT(max_abs_diff(got, want), 1e-12) << describe(c);
      const auto dg = torch::autograd::grad({got}, inputs, {g});
      const auto dw = torch::autograd::grad({want}, inputs, {g});
      for (size_t i = 0; i < inputs.size(); ++i)
        EXPECT_LT(max_abs_diff(dg[i], dw[i]), 1e-11) << describe(c) << " input " << i;
    }
  }
}

TEST(FracConnection, FractionsGoWhereTheMatrixSays) {
  // With Y a permutation, the sublayer's input fraction j is fraction perm(j)
  // of the stream, and output fraction j is B_j y_j + (A-mixed stream)_j:
  // neither all read weight on fraction 0 nor every branch fraction summed into
  // each output fraction (lucidrains/hyper-connections with num_fracs > 1, frac.h).
  const int64_t m = 4, e = 4, d = m * e;
  FracConnectionImpl fc(frac(m, false));
  const int64_t perm[m] = {2, 0, 3, 1};
  torch::Tensor M = torch::zeros({m + 1, 2 * m});
  for (int64_t j = 0; j < m; ++j) {
    M[0][m + j] = double(j + 2);      // B_j = j + 2
    M[1 + perm[j]][j] = 1.0;          // Y[perm(j)][j] = 1: read fraction perm(j) into slot j
    M[1 + j][m + (j + 1) % m] = 1.0;  // A: fraction j moves to slot j+1
  }
  fc.set_static_matrix(M);
  EXPECT_TRUE(torch::equal(fc.static_matrix().narrow(0, 1, m), M.narrow(0, 1, m)));
  at::Generator gen = at::detail::createCPUGenerator(11);
  const torch::Tensor x = at::normal(0.0, 1.0, {2, 3, d}, gen);
  torch::Tensor h0_seen;
  const Sublayer f = [&h0_seen](const torch::Tensor& h0) {
    h0_seen = h0;
    return h0 * 10.0;  // y = 10 h0
  };
  const torch::Tensor out = fc.forward(x, f);
  auto fraction = [e](const torch::Tensor& t, int64_t i) { return t.narrow(-1, i * e, e); };
  for (int64_t j = 0; j < m; ++j) {
    EXPECT_TRUE(torch::equal(fraction(h0_seen, j), fraction(x, perm[j]))) << "read slot " << j;
    const torch::Tensor want = double(j + 2) * 10.0 * fraction(x, perm[j]) + fraction(x, (j + m - 1) % m);
    // Up to ~50 |x|: float32 rounds at ~1e-7 relative (an absolute 1e-5 failed 1 in 30 draws).
    EXPECT_LT(max_abs_diff(fraction(out, j), want), 1e-6 * (1.0 + want.abs().max().item<double>()))
        << "output fraction " << j;
  }
  EXPECT_THROW(fc.set_static_matrix(torch::zeros({m + 1, m + 1})), std::invalid_argument);
}

TEST(FracConnection, OneFractionIsHyperConnectionsWithOneStream) {
  // m = 1: [Y | A] (1, 2) and B (1) are HC's [A_m | A_r] and B for n = 1, with
  // the same names; the dynamic terms see the same normalised stream.
  for (bool dynamic : {false, true}) {
    auto hc_cfg = tiny("hc", 1, dynamic), fc_cfg = frac(1, dynamic);
    hc_cfg.model.norm = fc_cfg.model.norm = "rmsnorm";
    Gpt hc(hc_cfg), fc(fc_cfg);
    testing::perturb(*hc, 0.2);
    testing::copy_shared(*hc, *fc);
    EXPECT_EQ(param_specs(hc_cfg).size(), param_specs(fc_cfg).size());
    const torch::Tensor idx = testing::tokens(2, 8);
    EXPECT_LT(max_abs_diff(hc->forward(idx), fc->forward(idx)), 1e-6) << (dynamic ? "dynamic" : "static");
  }
}

TEST(FracConnection, ParameterCountsAreThePapers) {
  // Eqs. 16 and 19: SFC m(2m+1); DFC m(2m+1) + e(2m+1) + 2 + |norm| per sublayer.
  for (int64_t m : {1, 2, 4, 8}) {
    for (const auto& c : frac_variants(m)) {
      const int64_t e = c.model.d_model / m;
      int64_t want = m * (2 * m + 1);
      if (c.residual.dynamic) {
        want += e * (2 * m + 1);
        if (c.residual.dynamic_scale) want += 2;
        if (c.residual.dynamic_norm && c.model.norm == "rmsnorm") want += e;
      }
      EXPECT_EQ(mixer_params(c), want) << describe(c);
      FracConnectionImpl module(c);
      int64_t k = 0;
      for (const auto& p : module.parameters()) k += p.numel();
      EXPECT_EQ(k, want) << describe(c);
    }
  }
  // The paper's totals for L = 16, m = 4, d = 2048: SFC 1,152; DFC with RMSNorm 165,056.
  auto c = frac(4, false);
  c.model.d_model = 2048;
  c.model.n_heads = 16;
  c.model.n_layers = 16;
  EXPECT_EQ(compute_stats(c).hc_params, 1152);
  c.residual.dynamic = true;
  c.model.norm = "rmsnorm";
  EXPECT_EQ(compute_stats(c).hc_params, 165056);
}

TEST(FracConnection, StaticPartsAndScalesDoNotDecayTheProjectionsDo) {
  for (const auto& p : param_specs(frac_variants(2).back())) {
    if (!is_hc_param(p.name)) continue;
    const bool projection =
        p.name.find("dynamic_alpha_fn") != std::string::npos || p.name.find("dynamic_beta_fn") != std::string::npos;
    EXPECT_EQ(p.decays, projection) << p.name;
  }
}

TEST(FracConnection, AtInitTheScalesHaveZeroGradientTheProjectionsNot) {
  // As DHC: W = 0 makes tanh(f̄ W) = 0, the scales' gradient; W's own gradient s f̄^T dL/dA is not 0.
  Gpt m(frac(4, true));
  m->loss(testing::tokens(2, 8), testing::tokens(2, 8, 32, 2)).backward();
  for (const auto& p : named_params(*m)) {
    if (!is_hc_param(p.name)) continue;
    const double g = p.tensor.grad().abs().max().item<double>();
    if (p.group == ParamGroup::kHcScale) {
      EXPECT_EQ(g, 0.0) << p.name;
    } else {
      EXPECT_GT(g, 0.0) << p.name;
    }
  }
}

TEST(FracConnection, TraceRecordsTheFcMatrixAndTheConcatenatedInput) {
  Gpt m(frac(2, true));
  testing::perturb(*m, 0.05);
  const torch::Tensor idx = testing::tokens(2, 8);
  ForwardTrace trace;
  const torch::Tensor with = m->forward(idx, &trace);
  EXPECT_TRUE(torch::equal(with, m->forward(idx)));
  ASSERT_EQ(trace.frac_matrices.size(), 4u);
  EXPECT_TRUE(trace.hc_matrices.empty());
  EXPECT_EQ(trace.frac_matrices[0].sizes().vec(), (std::vector<int64_t>{3, 4}));
  auto* fc = (*m->h)[0]->as<BlockImpl>()->fc_attn.get();
  const FracWeights w = fc->weights(m->wte(idx));
  EXPECT_LT(max_abs_diff(trace.frac_matrices[0],
                         hc_matrix(w.beta.reshape({-1, 2}).mean(0), w.alpha.reshape({-1, 2, 4}).mean(0))),
            1e-6);
  ASSERT_EQ(trace.sublayer_inputs.size(), 4u);
  EXPECT_EQ(trace.sublayer_inputs[0].sizes().vec(), (std::vector<int64_t>{2, 8, 16}));
}

TEST(FracConnection, RejectsAFracRateThatDoesNotDivideTheWidth) {
  auto c = frac(3);
  const auto errors = config::validate(c);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "residual.n: expected a frac rate that divides model.d_model (16) into equal fractions, got 3");
  c.residual.n = 16;
  EXPECT_EQ(config::validate(c).at(0), "residual.n: expected a frac rate from 1 to 8, got 16");
}

}  // namespace
}  // namespace hcx::model
