// The fused operations against their reference forms: values and every
// gradient; for the stream reads and writes per-token and shared weights, one
// read (HC) or one per stream (Frac-Connections), a shared or split sublayer
// output, and a stream-expanded input (as the first sublayer gets it); for RoPE the strided
// heads view attention passes; the normalised projection and Sinkhorn-Knopp
// for n in {1, 2, 4, 8}; every thread count alike; needs-grad cases; and whole
// HC and mHC mixers (static and dynamic, tanh on and off, LayerNorm and
// RMSNorm) in double precision, fused against set_fused_ops(false).
#include "hcx/model/fused.h"

#include <limits>
#include <stdexcept>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/types.h>

#include "hcx/model/hyper_connections.h"
#include "hcx/model/layers.h"
#include "model/tiny.h"

namespace hcx::model {
namespace {

using testing::max_abs_diff;

torch::Tensor normal(std::vector<int64_t> shape, uint64_t seed, at::ScalarType dtype = at::kDouble) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  return at::normal(0.0, 1.0, shape, gen).to(dtype);
}

torch::Tensor leaf(const torch::Tensor& t) { return t.detach().clone().set_requires_grad(true); }

// The outputs of a read, and the gradients of L = <h0, G0> + <rest, G> with respect to alpha and H.
struct Read {
  torch::Tensor h0, rest, g_alpha, g_H;
};

template <typename Fn>
Read read(Fn fn, const torch::Tensor& alpha0, const torch::Tensor& H0) {
  const torch::Tensor alpha = leaf(alpha0), H = leaf(H0);
  const auto [h0, rest] = fn(alpha, H);
  const torch::Tensor G0 = normal(h0.sizes().vec(), 3, H.scalar_type()), G = normal(rest.sizes().vec(), 4, H.scalar_type());
  ((h0 * G0).sum() + (rest * G).sum()).backward();
  return {h0.detach(), rest.detach(), alpha.grad(), H.grad()};
}

void expect_read_matches(const torch::Tensor& alpha, const torch::Tensor& H, double tol) {
  const Read fused = read(read_streams, alpha, H), ref = read(read_streams_reference, alpha, H);
  ASSERT_EQ(fused.h0.sizes(), ref.h0.sizes());
  ASSERT_EQ(fused.rest.sizes(), ref.rest.sizes());
  EXPECT_LT(max_abs_diff(fused.h0, ref.h0), tol);
  EXPECT_LT(max_abs_diff(fused.rest, ref.rest), tol);
  EXPECT_LT(max_abs_diff(fused.g_alpha, ref.g_alpha), tol);
  EXPECT_LT(max_abs_diff(fused.g_H, ref.g_H), tol);
}

// The output of a write, and the gradients of <out, G> with respect to rest, beta and y.
struct Write {
  torch::Tensor out, g_rest, g_beta, g_y;
};

template <typename Fn>
Write write(Fn fn, const torch::Tensor& rest0, const torch::Tensor& beta0, const torch::Tensor& y0) {
  const torch::Tensor rest = leaf(rest0), beta = leaf(beta0), y = leaf(y0);
  const torch::Tensor out = fn(rest, beta, y);
  (out * normal(out.sizes().vec(), 5, out.scalar_type())).sum().backward();
  return {out.detach(), rest.grad(), beta.grad(), y.grad()};
}

void expect_write_matches(const torch::Tensor& rest, const torch::Tensor& beta, const torch::Tensor& y, double tol) {
  const Write fused = write(write_streams, rest, beta, y), ref = write(write_streams_reference, rest, beta, y);
  ASSERT_EQ(fused.out.sizes(), ref.out.sizes());
  EXPECT_LT(max_abs_diff(fused.out, ref.out), tol);
  EXPECT_LT(max_abs_diff(fused.g_rest, ref.g_rest), tol);
  EXPECT_LT(max_abs_diff(fused.g_beta, ref.g_beta), tol);
  EXPECT_LT(max_abs_diff(fused.g_y, ref.g_y), tol);
}

TEST(StreamMixing, ReadWithPerTokenWeightsMatchesMatmul) {
  // d 13: not a multiple of the 8-wide partial sums, so the tail is covered.
  for (int64_t n : {1, 2, 4, 8}) {
    SCOPED_TRACE(n);
    expect_read_matches(normal({3, 5, n, n + 1}, 1), normal({3, 5, n, 13}, 2), 1e-12);
  }
  expect_read_matches(normal({2, 7, 4, 5}, 1, at::kFloat), normal({2, 7, 4, 64}, 2, at::kFloat), 1e-5);
}

TEST(StreamMixing, ReadWithSharedWeightsMatchesMatmul) {
  expect_read_matches(normal({4, 5}, 1), normal({2, 3, 4, 16}, 2), 1e-12);  // static HC: (n, n+1)
}

TEST(StreamMixing, ReadOfEveryFractionMatchesMatmul) {
  // Frac-Connections read r = n times: h0 is the n reads concatenated, (B, T, n d).
  for (int64_t n : {1, 2, 4, 8}) {
    SCOPED_TRACE(n);
    expect_read_matches(normal({3, 5, n, 2 * n}, 1), normal({3, 5, n, 13}, 2), 1e-12);  // dynamic
    expect_read_matches(normal({n, 2 * n}, 1), normal({3, 5, n, 13}, 2), 1e-12);        // static
  }
  expect_read_matches(normal({2, 7, 4, 8}, 1, at::kFloat), normal({2, 7, 4, 16}, 2, at::kFloat), 1e-5);
  // Read j lands at h0[.., j d : (j+1) d]: with A_m = reversed identity, h0 is the streams in reverse order.
  const torch::Tensor H = normal({2, 3, 4, 5}, 2);
  const torch::Tensor alpha = at::cat({at::eye(4, at::kDouble).flip({1}), at::eye(4, at::kDouble)}, 1);
  const auto [h0, rest] = read_streams(alpha, H);
  EXPECT_TRUE(torch::equal(h0, H.flip({2}).reshape({2, 3, 20})));
  EXPECT_TRUE(torch::equal(rest, H));
}

TEST(StreamMixing, ReadOfStreamExpandedInputMatchesMatmul) {
  // The embedding copied into every stream: H has stride 0 over n.
  expect_read_matches(normal({2, 3, 4, 5}, 1), normal({2, 3, 1, 16}, 2).expand({2, 3, 4, 16}), 1e-12);
}

TEST(StreamMixing, WriteMatchesBroadcast) {
  for (int64_t n : {1, 4, 8}) {
    SCOPED_TRACE(n);
    expect_write_matches(normal({3, 5, n, 13}, 1), normal({3, 5, n}, 2), normal({3, 5, 13}, 3), 1e-12);  // dynamic
    expect_write_matches(normal({3, 5, n, 13}, 1), normal({n}, 2), normal({3, 5, 13}, 3), 1e-12);        // static
  }
  expect_write_matches(normal({2, 7, 4, 64}, 1, at::kFloat), normal({2, 7, 4}, 2, at::kFloat),
                       normal({2, 7, 64}, 3, at::kFloat), 1e-5);
}

TEST(StreamMixing, WriteOfASplitOutputMatchesBroadcast) {
  // Frac-Connections: y (B, T, n d), stream j gets B_j y_j with y_j its j-th slice of d.
  for (int64_t n : {2, 4, 8}) {
    SCOPED_TRACE(n);
    expect_write_matches(normal({3, 5, n, 13}, 1), normal({3, 5, n}, 2), normal({3, 5, n * 13}, 3), 1e-12);
    expect_write_matches(normal({3, 5, n, 13}, 1), normal({n}, 2), normal({3, 5, n * 13}, 3), 1e-12);
  }
  expect_write_matches(normal({2, 7, 4, 16}, 1, at::kFloat), normal({2, 7, 4}, 2, at::kFloat),
                       normal({2, 7, 64}, 3, at::kFloat), 1e-5);
  // With rest 0 and beta 1 the write is y itself, laid out as n slices.
  const torch::Tensor y = normal({2, 3, 12}, 4);
  EXPECT_TRUE(torch::equal(write_streams(at::zeros({2, 3, 4, 3}, at::kDouble), at::ones({4}, at::kDouble), y),
                           y.reshape({2, 3, 4, 3})));
}

TEST(StreamMixing, ThreadCountDoesNotChangeABit) {
  const torch::Tensor alpha = normal({4, 64, 4, 5}, 1, at::kFloat), H = normal({4, 64, 4, 32}, 2, at::kFloat);
  const torch::Tensor beta = normal({4, 64, 4}, 3, at::kFloat), y = normal({4, 64, 32}, 4, at::kFloat);
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const Read r1 = read(read_streams, alpha, H);
  const Write w1 = write(write_streams, H, beta, y);
  at::set_num_threads(4);
  const Read r4 = read(read_streams, alpha, H);
  const Write w4 = write(write_streams, H, beta, y);
  at::set_num_threads(threads);
  for (const auto& [a, b] : {std::pair{r1.h0, r4.h0}, {r1.rest, r4.rest}, {r1.g_alpha, r4.g_alpha}, {r1.g_H, r4.g_H},
                             {w1.out, w4.out}, {w1.g_beta, w4.g_beta}, {w1.g_y, w4.g_y}}) {
    EXPECT_TRUE(torch::equal(a, b));
  }
}

TEST(StreamMixing, GradientOnlyWhereAsked) {
  // Frozen weights (no grad) still pass the gradient to the streams.
  const torch::Tensor alpha = normal({2, 3, 4, 5}, 1), beta = normal({2, 3, 4}, 2);
  const torch::Tensor H = leaf(normal({2, 3, 4, 8}, 3)), y = leaf(normal({2, 3, 8}, 4));
  const auto [h0, rest] = read_streams(alpha, H);
  (write_streams(rest, beta, y).sum() + h0.sum()).backward();
  EXPECT_FALSE(alpha.grad().defined());
  EXPECT_FALSE(beta.grad().defined());
  const torch::Tensor H2 = leaf(H), y2 = leaf(y);
  const auto [h0_ref, rest_ref] = read_streams_reference(alpha, H2);
  (write_streams_reference(rest_ref, beta, y2).sum() + h0_ref.sum()).backward();
  EXPECT_LT(max_abs_diff(H.grad(), H2.grad()), 1e-12);
  EXPECT_LT(max_abs_diff(y.grad(), y2.grad()), 1e-12);
  // No grad mode: plain values, nothing recorded.
  const at::NoGradGuard no_grad;
  EXPECT_FALSE(read_streams(alpha, H).second.requires_grad());
  EXPECT_FALSE(write_streams(rest, beta, y).requires_grad());
}

// normed_matmul's output and the gradients of <out, G> with respect to x and w.
std::vector<torch::Tensor> project(bool fused, const torch::Tensor& x0, const torch::Tensor& w0, bool center) {
  const torch::Tensor x = leaf(x0), w = leaf(w0);
  const torch::Tensor out = fused ? normed_matmul(x, w, center, 1e-5) : normed_matmul_reference(x, w, center, 1e-5);
  (out * normal(out.sizes().vec(), 6, out.scalar_type())).sum().backward();
  return {out.detach(), x.grad(), w.grad()};
}

void expect_projection_matches(const torch::Tensor& x, const torch::Tensor& w, double tol) {
  for (bool center : {true, false}) {
    SCOPED_TRACE(center ? "LayerNorm" : "RMSNorm");
    const auto fused = project(true, x, w, center), ref = project(false, x, w, center);
    ASSERT_EQ(fused[0].sizes(), ref[0].sizes());
    for (size_t i = 0; i < fused.size(); ++i) EXPECT_LT(max_abs_diff(fused[i], ref[i]), tol) << "output/grad " << i;
  }
}

TEST(NormedMatmul, MatchesNormThenMatmul) {
  // Offset and scaled rows, so that the mean and the variance matter.
  for (int64_t n : {1, 2, 4, 8}) {
    SCOPED_TRACE(n);
    const torch::Tensor H = normal({3, 5, n, 13}, 1) * 3.0 + 0.7;
    expect_projection_matches(H, normal({13, n + 2}, 2), 1e-12);                        // dynamic HC: (d, n+2)
    expect_projection_matches(H.flatten(-2), normal({n * 13, 2 * n + n * n}, 2), 1e-12);  // mHC: (n d, 2n + n^2)
  }
  // float32: d w sums 56 rows of products of order 1 (rounding ~1e-5).
  expect_projection_matches(normal({2, 7, 4, 64}, 1, at::kFloat) + 2.0, normal({64, 6}, 2, at::kFloat), 5e-5);
}

TEST(NormedMatmul, StreamExpandedInputAndFrozenWeight) {
  expect_projection_matches(normal({2, 3, 1, 16}, 1).expand({2, 3, 4, 16}), normal({16, 6}, 2), 1e-12);
  const torch::Tensor x = leaf(normal({2, 3, 16}, 1)), w = normal({16, 6}, 2);
  normed_matmul(x, w, true, 1e-5).sum().backward();
  EXPECT_TRUE(x.grad().defined());
  EXPECT_FALSE(w.grad().defined());
}

// Sinkhorn-Knopp's output and the gradient of <out, G> with respect to the logits.
std::pair<torch::Tensor, torch::Tensor> balance(bool fused, const torch::Tensor& logits0, int64_t iters) {
  const torch::Tensor logits = leaf(logits0);
  const torch::Tensor out = fused ? sinkhorn_knopp(logits, iters) : sinkhorn_knopp_reference(logits, iters);
  (out * normal(out.sizes().vec(), 7, out.scalar_type())).sum().backward();
  return {out.detach(), logits.grad()};
}

TEST(Sinkhorn, FusedMatchesReference) {
  // 15 matrices: one whole block of lanes and a partial one, in float and double.
  for (int64_t n : {1, 2, 4, 8}) {
    for (int64_t iters : {1, 3, 20}) {
      for (double spread : {0.5, 3.0, 200.0}) {  // 200: entries far under exp's range
        SCOPED_TRACE(::testing::Message() << "n " << n << ", iters " << iters << ", spread " << spread);
        const torch::Tensor logits = normal({3, 5, n, n}, 1) * spread;
        const auto [out, grad] = balance(true, logits, iters);
        const auto [out_ref, grad_ref] = balance(false, logits, iters);
        EXPECT_LT(max_abs_diff(out, out_ref), 1e-13);
        EXPECT_LT(max_abs_diff(grad, grad_ref), 1e-12);
        const auto [outf, gradf] = balance(true, logits.to(at::kFloat), iters);
        const auto [outf_ref, gradf_ref] = balance(false, logits.to(at::kFloat), iters);
        EXPECT_LT(max_abs_diff(outf, outf_ref), 1e-5);  // float32 logits of 200: one ulp is 1.5e-5
        EXPECT_LT(max_abs_diff(gradf, gradf_ref), 2e-5);
      }
    }
  }
}

TEST(Sinkhorn, SharedMatrixAndNoRounds) {
  // mHC's static matrix: one (n, n) logits matrix; 0 rounds is exp.
  const torch::Tensor logits = normal({4, 4}, 1);
  EXPECT_LT(max_abs_diff(balance(true, logits, 20).second, balance(false, logits, 20).second), 1e-12);
  EXPECT_TRUE(torch::equal(sinkhorn_knopp(logits, 0), at::exp(logits)));
  EXPECT_THROW(sinkhorn_knopp(normal({3, 4}, 1), 20), std::invalid_argument);
}

TEST(WeightOps, ThreadCountDoesNotChangeABit) {
  const torch::Tensor x = normal({4, 64, 4, 32}, 1, at::kFloat), w = normal({32, 6}, 2, at::kFloat);
  const torch::Tensor logits = normal({4, 61, 4, 4}, 3, at::kFloat);
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const auto p1 = project(true, x, w, true);
  const auto s1 = balance(true, logits, 20);
  at::set_num_threads(4);
  const auto p4 = project(true, x, w, true);
  const auto s4 = balance(true, logits, 20);
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(p1[0], p4[0]));
  EXPECT_TRUE(torch::equal(p1[1], p4[1]));
  EXPECT_TRUE(torch::equal(s1.first, s4.first));
  EXPECT_TRUE(torch::equal(s1.second, s4.second));
}

// A whole mixer in double precision: its output and the gradients of every
// parameter and of H, for L = <forward(H, tanh(h0 W)), G>.
std::vector<torch::Tensor> mix(const config::RunConfig& cfg, bool fused) {
  const bool before = fused_ops();  // HCX_FUSED=0 in the environment stays in force after the test
  set_fused_ops(fused);
  const std::shared_ptr<ResidualMixerImpl> mixer = make_mixer(cfg, 1);
  mixer->to(at::kDouble);
  {
    const at::NoGradGuard no_grad;
    int64_t seed = 20;
    for (auto& p : mixer->parameters()) p.add_(normal(p.sizes().vec(), ++seed) * 0.3);  // away from the init
  }
  const int64_t n = cfg.residual.n, d = cfg.model.d_model;
  const torch::Tensor H = leaf(normal({2, 9, n, d}, 8) * 2.0 + 0.5);
  const torch::Tensor W = normal({d, d}, 9);
  const torch::Tensor out = mixer->forward(H, [&](const torch::Tensor& h0) { return at::tanh(at::matmul(h0, W)); });
  (out * normal(out.sizes().vec(), 10)).sum().backward();
  set_fused_ops(before);
  std::vector<torch::Tensor> got{out.detach(), H.grad()};
  for (const auto& p : mixer->parameters()) got.push_back(p.grad());
  return got;
}

void expect_mixer_matches(const config::RunConfig& cfg) {
  const auto fused = mix(cfg, true), ref = mix(cfg, false);
  ASSERT_EQ(fused.size(), ref.size());
  for (size_t i = 0; i < fused.size(); ++i) {
    ASSERT_EQ(fused[i].defined(), ref[i].defined()) << i;
    if (fused[i].defined()) {
      EXPECT_LT(max_abs_diff(fused[i], ref[i]), 1e-10) << "output, d H, parameter " << i;
    }
  }
}

TEST(FusedMixers, HcMatchesReferenceInDouble) {
  for (int64_t n : {1, 2, 4, 8}) {
    for (bool dynamic : {false, true}) {
      for (bool tanh : {false, true}) {
        for (const char* norm : {"layernorm", "rmsnorm"}) {
          SCOPED_TRACE(::testing::Message() << "n " << n << (dynamic ? " dynamic" : " static") << " tanh " << tanh
                                            << " " << norm);
          config::RunConfig cfg = testing::tiny("hc", n, dynamic);
          cfg.residual.tanh = tanh;
          cfg.model.norm = norm;
          expect_mixer_matches(cfg);
        }
      }
    }
  }
}

TEST(FusedMixers, MhcMatchesReferenceInDouble) {
  for (int64_t n : {1, 2, 4, 8}) {
    SCOPED_TRACE(n);
    expect_mixer_matches(testing::tiny("mhc", n));
  }
}

// RoPE of x and the gradient of <out, G> with respect to x.
std::pair<torch::Tensor, torch::Tensor> rotate(bool fused, const torch::Tensor& x0, const torch::Tensor& c,
                                               const torch::Tensor& s) {
  const bool before = fused_ops();  // as mix(): the fused kernel even under HCX_FUSED=0, which stays in force after
  set_fused_ops(fused);
  const torch::Tensor x = leaf(x0);
  const torch::Tensor out = rope(x, c, s);
  (out * normal(out.sizes().vec(), 5, out.scalar_type())).sum().backward();
  set_fused_ops(before);
  return {out.detach(), x.grad()};
}

TEST(Rope, FusedMatchesReferenceOnTheHeadsView) {
  // As attention calls it: q is a (B, T, nh, hs) slice of c_attn's output seen
  // as (B, nh, T, hs), and the tables are longer than T.
  const auto [c, s] = rope_tables(16, 6, 10000.0);
  for (at::ScalarType dtype : {at::kDouble, at::kFloat}) {
    const torch::Tensor qkv = normal({2, 11, 3 * 3 * 6}, 1, dtype);
    const torch::Tensor x = qkv.narrow(-1, 18, 18).reshape({2, 11, 3, 6}).transpose(1, 2);  // (B, nh, T, hs), strided
    ASSERT_FALSE(x.is_contiguous());
    const auto fused = rotate(true, x, c, s), ref = rotate(false, x, c, s);
    const double tol = dtype == at::kDouble ? 1e-7 : 1e-5;  // the tables are float32 either way
    EXPECT_TRUE(fused.first.is_contiguous());
    EXPECT_LT(max_abs_diff(fused.first, ref.first), tol);
    EXPECT_LT(max_abs_diff(fused.second, ref.second), tol);
  }
}

TEST(Rope, ThreadCountDoesNotChangeABit) {
  const auto [c, s] = rope_tables(64, 32, 10000.0);
  const torch::Tensor x = normal({4, 4, 64, 32}, 1, at::kFloat);
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const auto one = rotate(true, x, c, s);
  at::set_num_threads(4);
  const auto four = rotate(true, x, c, s);
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one.first, four.first));
  EXPECT_TRUE(torch::equal(one.second, four.second));
}

TEST(Rope, WrongShapesAreRefused) {
  const auto [c, s] = rope_tables(8, 6, 10000.0);
  EXPECT_THROW(rope(normal({1, 2, 9, 6}, 1), c, s), std::invalid_argument);  // longer than the tables
  EXPECT_THROW(rope(normal({1, 2, 8, 4}, 1), c, s), std::invalid_argument);  // another head size
  EXPECT_THROW(rope(normal({2, 8, 6}, 1), c, s), std::invalid_argument);     // not (B, nh, T, hs)
}

// SwiGLU's activation on u, and the gradient of <out, G> with respect to u.
std::pair<torch::Tensor, torch::Tensor> swiglu_grad(bool fused, const torch::Tensor& u0) {
  const bool before = fused_ops();  // as mix()
  set_fused_ops(fused);
  const torch::Tensor u = leaf(u0);
  const torch::Tensor out = swiglu(u);
  (out * normal(out.sizes().vec(), 6, at::kDouble).to(out.scalar_type())).sum().backward();
  set_fused_ops(before);
  return {out.detach(), u.grad()};
}

TEST(Swiglu, FusedMatchesReferenceValuesAndGradients) {
  // h 37: rows that are no multiple of a vector; entries out to +-30, where
  // the sigmoid saturates on either side.
  for (at::ScalarType dtype : {at::kDouble, at::kFloat}) {
    const torch::Tensor u = (normal({3, 5, 2 * 37}, 2) * 8.0).clamp(-30, 30).to(dtype);
    const auto fused = swiglu_grad(true, u), ref = swiglu_grad(false, u);
    ASSERT_EQ(fused.first.sizes(), (std::vector<int64_t>{3, 5, 37}));
    const double tol = dtype == at::kDouble ? 1e-12 : 2e-5;  // |out| up to ~30 * 30
    EXPECT_LT(max_abs_diff(fused.first, ref.first), tol) << dtype;
    EXPECT_LT(max_abs_diff(fused.second, ref.second), tol) << dtype;
  }
}

TEST(Swiglu, Bf16IsTheExactValueRoundedOnce) {
  // bf16 (c_fc's output under CPU autocast): computed in float from the bf16
  // inputs and rounded once, so within bf16's unit roundoff (2^-8 relative:
  // 8 significant bits) of the double-precision value, plus float's error;
  // ATen's silu-then-multiply rounds twice (up to about 2^-7).
  const torch::Tensor u = (normal({4, 3, 2 * 50}, 3) * 3.0).to(at::kBFloat16);
  const auto fused = swiglu_grad(true, u);
  ASSERT_EQ(fused.first.scalar_type(), at::kBFloat16);
  ASSERT_EQ(fused.second.scalar_type(), at::kBFloat16);
  const auto exact = swiglu_grad(false, u.to(at::kDouble));
  const auto rel = [](const torch::Tensor& got, const torch::Tensor& want) {
    return ((got.to(at::kDouble) - want).abs() / want.abs().clamp_min(1e-30)).max().item<double>();
  };
  EXPECT_LE(rel(fused.first, exact.first), 1.0 / 256 + 1e-5);
  // the gradient's G is bf16 too: compare with the exact gradient for that G
  const torch::Tensor g = normal({4, 3, 50}, 6, at::kDouble).to(at::kBFloat16).to(at::kDouble);
  const torch::Tensor ud = u.to(at::kDouble), a = ud.narrow(-1, 0, 50), b = ud.narrow(-1, 50, 50), sg = at::sigmoid(a);
  const torch::Tensor want = at::cat({g * b * sg * (1 + a * (1 - sg)), g * a * sg}, -1);
  EXPECT_LE(rel(fused.second, want), 1.0 / 256 + 1e-5);
}

TEST(Swiglu, NanStaysNanAndAnOddWidthIsRefused) {
  torch::Tensor u = at::zeros({1, 4}, at::kBFloat16);
  u[0][0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(at::isnan(swiglu(u)[0][0]).item<bool>());
  EXPECT_FALSE(at::isnan(swiglu(u)[0][1]).item<bool>());
  try {
    swiglu(normal({2, 7}, 1));
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "swiglu: expected u (..., 2h) = [gate | up], got last size 7");
  }
}

TEST(StreamMixing, WrongShapesAreRefused) {
  const torch::Tensor H = normal({2, 3, 4, 8}, 1);
  EXPECT_THROW(read_streams(normal({3, 4}, 1), H), std::invalid_argument);            // 3 rows for 4 streams
  EXPECT_THROW(read_streams(normal({4, 4}, 1), H), std::invalid_argument);            // n columns, not n+1
  EXPECT_THROW(read_streams(normal({4, 5}, 1), normal({6, 4, 8}, 1)), std::invalid_argument);  // not (B, T, n, d)
  EXPECT_THROW(write_streams(H, normal({3}, 1), normal({2, 3, 8}, 1)), std::invalid_argument);  // beta for 3 streams
  EXPECT_THROW(write_streams(H, normal({4}, 1), normal({2, 3, 7}, 1)), std::invalid_argument);  // y of another width
  EXPECT_THROW(write_streams(H, normal({4}, 1), normal({2, 3, 33}, 1)), std::invalid_argument);  // nor n d
  EXPECT_THROW(read_streams(normal({4}, 1), H), std::invalid_argument);                          // not a matrix
}

}  // namespace
}  // namespace hcx::model
