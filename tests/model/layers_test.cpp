// The building blocks against naive references: causal attention (both
// compiled paths), RoPE, norms and FFN widths.
#include "hcx/model/layers.h"

#include <cmath>

#include <gtest/gtest.h>

#include "hcx/error.h"
#include "hcx/model/param_specs.h"
#include "hcx/model/fused.h"
#include "model/tiny.h"

namespace hcx::model {
namespace {

using testing::max_abs_diff;

// softmax over s <= t of q_t . k_s / sqrt(hs), then the weighted sum of v_s,
// one (b, head, t) at a time. q, k, v: (B, nh, T, hs).
torch::Tensor naive_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  const int64_t B = q.size(0), nh = q.size(1), T = q.size(2), hs = q.size(3);
  torch::Tensor out = torch::zeros_like(q);
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t h = 0; h < nh; ++h) {
      for (int64_t t = 0; t < T; ++t) {
        std::vector<double> score(t + 1);
        double mx = -1e300, total = 0;
        for (int64_t s = 0; s <= t; ++s) {
          score[s] = (q[b][h][t] * k[b][h][s]).sum().item<double>() / std::sqrt(double(hs));
          mx = std::max(mx, score[s]);
        }
        for (auto& x : score) total += (x = std::exp(x - mx));
        torch::Tensor acc = torch::zeros({hs});
        for (int64_t s = 0; s <= t; ++s) acc += v[b][h][s] * (score[s] / total);
        out[b][h][t] = acc;
      }
    }
  }
  return out;
}

TEST(Attention, BothPathsEqualNaiveReference) {
  at::manual_seed(0);
  const torch::Tensor q = torch::randn({2, 3, 5, 4}), k = torch::randn({2, 3, 5, 4}), v = torch::randn({2, 3, 5, 4});
  const torch::Tensor ref = naive_attention(q, k, v);
  EXPECT_LT(max_abs_diff(causal_attention_explicit(q, k, v), ref), 1e-5);
  EXPECT_LT(max_abs_diff(causal_attention(q, k, v), ref), 1e-5);
}

// causal_attention is at::scaled_dot_product_attention on LibTorch 2.x (its
// fused CPU flash kernel, blocked over T) and the explicit masked softmax on
// 1.x: both must give the explicit path's values and gradients, in float64
// and float32, at lengths that span several of the kernel's blocks.
TEST(Attention, CompiledPathEqualsExplicitInValuesAndGradients) {
  for (const auto dtype : {at::kDouble, at::kFloat}) {
    const double tol = dtype == at::kDouble ? 1e-10 : 2e-5;
    for (const int64_t T : {1, 7, 130}) {
      at::manual_seed(T);
      const auto opts = at::TensorOptions().dtype(dtype);
      const torch::Tensor q0 = torch::randn({2, 3, T, 16}, opts), k0 = torch::randn({2, 3, T, 16}, opts),
                          v0 = torch::randn({2, 3, T, 16}, opts), dy = torch::randn({2, 3, T, 16}, opts);
      torch::Tensor grads[2][3];
      torch::Tensor out[2];
      for (int path = 0; path < 2; ++path) {
        torch::Tensor q = q0.clone().requires_grad_(), k = k0.clone().requires_grad_(), v = v0.clone().requires_grad_();
        out[path] = path == 0 ? causal_attention_explicit(q, k, v) : causal_attention(q, k, v);
        (out[path] * dy).sum().backward();
        grads[path][0] = q.grad(), grads[path][1] = k.grad(), grads[path][2] = v.grad();
      }
      const std::string at = std::string(dtype == at::kDouble ? "float64" : "float32") + " T " + std::to_string(T);
      EXPECT_LT(max_abs_diff(out[1], out[0]), tol) << at;
      for (int i = 0; i < 3; ++i) EXPECT_LT(max_abs_diff(grads[1][i], grads[0][i]), tol) << at << " grad " << "qkv"[i];
    }
  }
}

TEST(Attention, IsCausal) {
  // Changing the last token changes no earlier output.
  config::ModelConfig m = testing::tiny().model;
  Attention attn(m);
  const at::NoGradGuard no_grad;
  for (auto& p : attn->parameters()) p.normal_(0.0, 0.3);
  torch::Tensor x = torch::randn({1, 6, m.d_model});
  const torch::Tensor y1 = attn(x);
  x[0][5] += 1.0;
  const torch::Tensor y2 = attn(x);
  EXPECT_LT(max_abs_diff(y1.narrow(1, 0, 5), y2.narrow(1, 0, 5)), 1e-6);
  EXPECT_GT(max_abs_diff(y1.narrow(1, 5, 1), y2.narrow(1, 5, 1)), 1e-4);
}

TEST(Attention, RejectsSequencesLongerThanSeqLen) {
  config::ModelConfig m = testing::tiny().model;
  Attention attn(m);
  try {
    attn(torch::zeros({1, m.seq_len + 1, m.d_model}));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_NE(std::string(e.what()).find("model.seq_len"), std::string::npos) << e.what();
  }
}

TEST(Rope, IdentityAtPositionZeroAndNormPreserving) {
  const auto [c, s] = rope_tables(6, 8, 10000.0);
  const torch::Tensor x = torch::randn({1, 2, 6, 8});
  const torch::Tensor y = rope(x, c, s);
  EXPECT_LT(max_abs_diff(y.select(2, 0), x.select(2, 0)), 1e-7);
  EXPECT_LT(max_abs_diff(y.norm(2, -1), x.norm(2, -1)), 1e-5);
  EXPECT_GT(max_abs_diff(y.select(2, 3), x.select(2, 3)), 1e-3);
}

TEST(Rope, ScoresDependOnlyOnRelativePosition) {
  // <R_t q, R_s k> == <R_{t+c} q, R_{s+c} k>: place q, k at (4, 1) and at (5, 2).
  const auto [c, s] = rope_tables(8, 4, 10000.0);
  const torch::Tensor q = torch::randn({4}), k = torch::randn({4});
  torch::Tensor Q = torch::zeros({1, 1, 8, 4}), K = torch::zeros({1, 1, 8, 4});
  Q[0][0][4] = q; K[0][0][1] = k; Q[0][0][5] = q; K[0][0][2] = k;
  const torch::Tensor rq = rope(Q, c, s), rk = rope(K, c, s);
  const double a = (rq[0][0][4] * rk[0][0][1]).sum().item<double>();
  const double b = (rq[0][0][5] * rk[0][0][2]).sum().item<double>();
  EXPECT_NEAR(a, b, 1e-5);
}

TEST(Norm, LayerNormHasNoParametersAndNormalises) {
  Norm ln(8, /*rms=*/false, 1e-5);
  EXPECT_TRUE(ln->parameters().empty());
  const torch::Tensor y = ln(torch::randn({3, 8}) * 5 + 2);
  EXPECT_LT(y.mean(-1).abs().max().item<double>(), 1e-5);
  EXPECT_LT(max_abs_diff(y.var(-1, /*unbiased=*/false), torch::ones({3})), 1e-3);
}

TEST(Norm, RmsNormHasAGainAndEqualsFormula) {
  Norm rms(4, /*rms=*/true, 0.0);
  ASSERT_EQ(rms->parameters().size(), 1u);
  {
    const at::NoGradGuard no_grad;
    rms->weight.copy_(torch::tensor({1.0f, 2.0f, 3.0f, 4.0f}));
  }
  const torch::Tensor x = torch::tensor({1.0f, -1.0f, 3.0f, -3.0f});  // mean square 5
  const torch::Tensor want = x / std::sqrt(5.0f) * torch::tensor({1.0f, 2.0f, 3.0f, 4.0f});
  EXPECT_LT(max_abs_diff(rms(x), want), 1e-6);
}

TEST(Mlp, HiddenWidths) {
  config::ModelConfig m;
  m.d_model = 64;
  EXPECT_EQ(ffn_hidden(m), 176);  // ceil(512/3) = 171 -> multiple of 8
  m.d_model = 48;
  EXPECT_EQ(ffn_hidden(m), 128);  // 8*48/3 = 128 exactly
  m.d_model = 512;
  EXPECT_EQ(ffn_hidden(m), 1368);  // 1365.33 -> 1366 -> 1368
  m.ffn = "gelu";
  EXPECT_EQ(ffn_hidden(m), 2048);
}

TEST(Mlp, SwigluEqualsFormula) {
  config::ModelConfig m = testing::tiny().model;
  Mlp mlp(m);
  const at::NoGradGuard no_grad;
  for (auto& p : mlp->parameters()) p.normal_(0.0, 0.3);
  const torch::Tensor x = torch::randn({2, 3, m.d_model});
  const int64_t h = ffn_hidden(m);
  const torch::Tensor gate = at::matmul(x, mlp->c_fc->weight.narrow(0, 0, h).t());
  const torch::Tensor up = at::matmul(x, mlp->c_fc->weight.narrow(0, h, h).t());
  const torch::Tensor want = at::matmul(gate * at::sigmoid(gate) * up, mlp->c_proj->weight.t());
  EXPECT_LT(max_abs_diff(mlp(x), want), 1e-5);
}

}  // namespace
}  // namespace hcx::model
