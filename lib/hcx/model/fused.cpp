// Fused CPU operations (see fused.h).
// Stream kernels: N = B*T tokens, n streams, d = d_model, all contiguous:
// a (N, n, n+1), h (N, n, d), h0 (N, d), rest (N, n, d), b (N, n), y (N, d).
// RoPE kernels: rows (b, head, t) of hs values; half = hs / 2.
// normed_matmul: R rows of K values, w (K, M). Sinkhorn: N matrices n x n,
// taken L at a time (one 64-byte vector of T per entry: lane l is matrix l).
#include "hcx/model/fused.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/types.h>

namespace hcx::model {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Tokens per parallel task: about at::internal::GRAIN_SIZE multiply-adds each.
int64_t grain(int64_t work_per_token) { return 1 + at::internal::GRAIN_SIZE / work_per_token; }

// o = w * x   and   o += w * x, over d values
template <typename T>
void scale(T* __restrict o, T w, const T* __restrict x, int64_t d) {
  for (int64_t c = 0; c < d; ++c) o[c] = w * x[c];
}
template <typename T>
void axpy(T* __restrict o, T w, const T* __restrict x, int64_t d) {
  for (int64_t c = 0; c < d; ++c) o[c] += w * x[c];
}

// sum of f(c) over c < d, in 8 independent partial sums (so that the
// compiler can vectorise without reassociating one sum).
template <typename T, typename F>
T sum8(int64_t d, F f) {
  T acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t c = 0;
  for (; c + 8 <= d; c += 8) {
    for (int k = 0; k < 8; ++k) acc[k] += f(c + k);
  }
  for (; c < d; ++c) acc[0] += f(c);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

// <x, y> over d values
template <typename T>
T dot(const T* __restrict x, const T* __restrict y, int64_t d) {
  return sum8<T>(d, [&](int64_t c) { return x[c] * y[c]; });
}

// Row j of the read's output (or its gradient: T const) for token t: j < r is
// read j of h0, j >= r is stream j-r of rest.
template <typename T>
struct ReadRows {
  T* h0;
  T* rest;
  int64_t r, n, d;
  T* operator()(int64_t t, int64_t j) const { return j < r ? h0 + (t * r + j) * d : rest + (t * n + j - r) * d; }
};

// out row j = sum_i a[t, i, j] h[t, i, :]
template <typename T>
void read_tokens(const T* a, const T* h, ReadRows<T> out, int64_t begin, int64_t end) {
  const int64_t n = out.n, m = out.r + n, d = out.d;
  for (int64_t t = begin; t < end; ++t) {
    const T* wt = a + t * n * m;
    const T* ht = h + t * n * d;
    for (int64_t j = 0; j < m; ++j) {
      T* o = out(t, j);
      scale(o, wt[j], ht, d);
      for (int64_t i = 1; i < n; ++i) axpy(o, wt[i * m + j], ht + i * d, d);
    }
  }
}

// gh[t, i, :] = sum_j a[t, i, j] g(t, j)   and   ga[t, i, j] = <h[t, i, :], g(t, j)>
template <typename T>
void read_tokens_backward(const T* a, const T* h, ReadRows<const T> g, T* ga, T* gh, int64_t begin, int64_t end) {
  const int64_t n = g.n, m = g.r + n, d = g.d;
  for (int64_t t = begin; t < end; ++t) {
    const T* wt = a + t * n * m;
    for (int64_t i = 0; i < n; ++i) {
      if (gh != nullptr) {
        T* o = gh + (t * n + i) * d;
        scale(o, wt[i * m], g(t, 0), d);
        for (int64_t j = 1; j < m; ++j) axpy(o, wt[i * m + j], g(t, j), d);
      }
      if (ga != nullptr) {
        const T* hi = h + (t * n + i) * d;
        for (int64_t j = 0; j < m; ++j) ga[(t * n + i) * m + j] = dot(hi, g(t, j), d);
      }
    }
  }
}

class ReadStreams : public torch::autograd::Function<ReadStreams> {
 public:
  // a (B, T, n, r+n), h (B, T, n, d), contiguous, one dtype -> {h0 (B, T, r d), rest (B, T, n, d)}
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& a, const torch::Tensor& h) {
    ctx->save_for_backward({a, h});
    const int64_t n = h.size(-2), d = h.size(-1), r = a.size(-1) - n, N = h.numel() / (n * d);
    torch::Tensor rest = at::empty_like(h);
    torch::Tensor h0 = at::empty({h.size(0), h.size(1), r * d}, h.options());
    AT_DISPATCH_FLOATING_TYPES(h.scalar_type(), "read_streams", [&] {
      const ReadRows<scalar_t> out{h0.data_ptr<scalar_t>(), rest.data_ptr<scalar_t>(), r, n, d};
      const scalar_t* ap = a.data_ptr<scalar_t>();
      const scalar_t* hp = h.data_ptr<scalar_t>();
      at::parallel_for(0, N, grain(n * (r + n) * d), [&](int64_t b, int64_t e) { read_tokens(ap, hp, out, b, e); });
    });
    return {h0, rest};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &a = saved[0], &h = saved[1];
    const torch::Tensor g_h0 = grads[0].contiguous(), g_rest = grads[1].contiguous();  // zeros if unused
    const int64_t n = h.size(-2), d = h.size(-1), r = a.size(-1) - n, N = h.numel() / (n * d);
    torch::Tensor ga, gh;
    if (ctx->needs_input_grad(0)) ga = at::empty_like(a);
    if (ctx->needs_input_grad(1)) gh = at::empty_like(h);
    AT_DISPATCH_FLOATING_TYPES(h.scalar_type(), "read_streams_backward", [&] {
      const ReadRows<const scalar_t> g{g_h0.data_ptr<scalar_t>(), g_rest.data_ptr<scalar_t>(), r, n, d};
      const scalar_t* ap = a.data_ptr<scalar_t>();
      const scalar_t* hp = h.data_ptr<scalar_t>();
      scalar_t* gap = ga.defined() ? ga.data_ptr<scalar_t>() : nullptr;
      scalar_t* ghp = gh.defined() ? gh.data_ptr<scalar_t>() : nullptr;
      at::parallel_for(0, N, grain(2 * n * (r + n) * d),
                       [&](int64_t b, int64_t e) { read_tokens_backward(ap, hp, g, gap, ghp, b, e); });
    });
    return {ga, gh};
  }
};

class WriteStreams : public torch::autograd::Function<WriteStreams> {
 public:
  // rest (B, T, n, d), b (B, T, n), y (B, T, d) or (B, T, n d), contiguous, one
  // dtype -> rest_i + b_i y (y shared by the streams) or rest_i + b_i y_i (y split:
  // stream i gets the slice y[.., i d : (i+1) d])
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& rest, const torch::Tensor& b,
                               const torch::Tensor& y) {
    ctx->save_for_backward({b, y});
    const int64_t n = rest.size(-2), d = rest.size(-1), N = rest.numel() / (n * d);
    const int64_t yd = y.size(-1), ys = yd == d ? 0 : d;  // y's row length, its offset from stream to stream
    torch::Tensor out = at::empty_like(rest);
    AT_DISPATCH_FLOATING_TYPES(rest.scalar_type(), "write_streams", [&] {
      const scalar_t* rp = rest.data_ptr<scalar_t>();
      const scalar_t* bp = b.data_ptr<scalar_t>();
      const scalar_t* yp = y.data_ptr<scalar_t>();
      scalar_t* op = out.data_ptr<scalar_t>();
      at::parallel_for(0, N, grain(n * d), [&](int64_t begin, int64_t end) {
        for (int64_t t = begin; t < end; ++t) {
          for (int64_t i = 0; i < n; ++i) {
            scalar_t* o = op + (t * n + i) * d;
            const scalar_t* r = rp + (t * n + i) * d;
            const scalar_t* yt = yp + t * yd + i * ys;
            const scalar_t w = bp[t * n + i];
            for (int64_t c = 0; c < d; ++c) o[c] = r[c] + w * yt[c];
          }
        }
      });
    });
    return out;
  }

  // d rest = g;  d b[t, i] = <g[t, i, :], y_i[t, :]>;  d y[t, :] = sum_i b[t, i] g[t, i, :] (shared y)
  // or d y_i[t, :] = b[t, i] g[t, i, :] (split y)
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &b = saved[0], &y = saved[1];
    const torch::Tensor g = grads[0].contiguous();
    const int64_t n = g.size(-2), d = g.size(-1), N = g.numel() / (n * d), yd = y.size(-1);
    const int64_t ys = yd == d ? 0 : d;
    torch::Tensor gb, gy;
    if (ctx->needs_input_grad(1)) gb = at::empty_like(b);
    if (ctx->needs_input_grad(2)) gy = at::empty_like(y);
    AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "write_streams_backward", [&] {
      const scalar_t* gp = g.data_ptr<scalar_t>();
      const scalar_t* bp = b.data_ptr<scalar_t>();
      const scalar_t* yp = y.data_ptr<scalar_t>();
      scalar_t* gbp = gb.defined() ? gb.data_ptr<scalar_t>() : nullptr;
      scalar_t* gyp = gy.defined() ? gy.data_ptr<scalar_t>() : nullptr;
      at::parallel_for(0, N, grain(2 * n * d), [&](int64_t begin, int64_t end) {
        for (int64_t t = begin; t < end; ++t) {
          const scalar_t* gt = gp + t * n * d;
          if (gyp != nullptr && ys == 0) {
            scale(gyp + t * d, bp[t * n], gt, d);
            for (int64_t i = 1; i < n; ++i) axpy(gyp + t * d, bp[t * n + i], gt + i * d, d);
          } else if (gyp != nullptr) {
            for (int64_t i = 0; i < n; ++i) scale(gyp + t * yd + i * d, bp[t * n + i], gt + i * d, d);
          }
          if (gbp != nullptr) {
            for (int64_t i = 0; i < n; ++i) gbp[t * n + i] = dot(gt + i * d, yp + t * yd + i * ys, d);
          }
        }
      });
    });
    return {ctx->needs_input_grad(0) ? g : torch::Tensor(), gb, gy};
  }
};

// One row of RoPE at position t, c and s the table rows:
//   o[i] = x[i] c[i] - x[i+half] s[i],  o[i+half] = x[i+half] c[i+half] + x[i] s[i+half]
// and its transpose (sign = -1), the backward:
//   o[i] = x[i] c[i] + x[i+half] s[i+half],  o[i+half] = x[i+half] c[i+half] - x[i] s[i]
template <typename T>
void rope_row(const T* __restrict x, const T* __restrict c, const T* __restrict s, T* __restrict o, int64_t half,
              bool transpose) {
  const T* s_lo = transpose ? s + half : s;  // sine paired with x[i+half] in o[i]
  const T* s_hi = transpose ? s : s + half;  // sine paired with x[i] in o[i+half]
  const T sign = transpose ? T(1) : T(-1);
  for (int64_t i = 0; i < half; ++i) o[i] = x[i] * c[i] + sign * x[i + half] * s_lo[i];
  for (int64_t i = 0; i < half; ++i) o[i + half] = x[i + half] * c[i + half] - sign * x[i] * s_hi[i];
}

// x (B, nh, T, hs) with unit stride over hs (any other strides) -> contiguous (B, nh, T, hs).
template <typename T>
torch::Tensor rope_rows(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin, bool transpose) {
  const int64_t nh = x.size(1), T_ = x.size(2), hs = x.size(3), rows = x.numel() / hs;
  const int64_t sb = x.stride(0), sh = x.stride(1), st = x.stride(2);
  torch::Tensor out = at::empty(x.sizes(), x.options());
  const T* xp = x.data_ptr<T>();
  const T* cp = cos.data_ptr<T>();
  const T* sp = sin.data_ptr<T>();
  T* op = out.data_ptr<T>();
  at::parallel_for(0, rows, grain(4 * hs), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t t = r % T_, h = (r / T_) % nh, b = r / (T_ * nh);
      rope_row(xp + b * sb + h * sh + t * st, cp + t * hs, sp + t * hs, op + r * hs, hs / 2, transpose);
    }
  });
  return out;
}

class Rope : public torch::autograd::Function<Rope> {
 public:
  // x (B, nh, T, hs), stride(3) == 1; cos, sin (T, hs) contiguous, x's dtype
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& cos,
                               const torch::Tensor& sin) {
    ctx->save_for_backward({cos, sin});
    torch::Tensor out;
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "rope", [&] { out = rope_rows<scalar_t>(x, cos, sin, false); });
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor g = grads[0].stride(-1) == 1 ? grads[0] : grads[0].contiguous();
    torch::Tensor gx;
    AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "rope_backward", [&] {
      gx = rope_rows<scalar_t>(g, saved[0], saved[1], true);
    });
    return {gx, torch::Tensor(), torch::Tensor()};
  }
};

// ---------------------------------------------------------------------------- normed_matmul

// Row statistics of x (R, K): mu = the mean (0 unless center), rstd = 1 / sqrt(mean((x - mu)^2) + eps).
template <typename T>
void row_stats(const T* x, T* mu, T* rstd, int64_t K, bool center, T eps, int64_t begin, int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    const T* xr = x + r * K;
    const T m = center ? sum8<T>(K, [&](int64_t c) { return xr[c]; }) / T(K) : T(0);
    const T v = sum8<T>(K, [&](int64_t c) { return (xr[c] - m) * (xr[c] - m); }) / T(K);
    mu[r] = m;
    rstd[r] = T(1) / std::sqrt(v + eps);
  }
}

class NormedMatmul : public torch::autograd::Function<NormedMatmul> {
 public:
  // x (R, K), w (K, M), contiguous, one dtype -> out (R, M) = rstd (x w - mu 1^T w)
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w, bool center,
                               double eps) {
    const int64_t R = x.size(0), K = x.size(1), M = w.size(1);
    torch::Tensor mu = at::empty({R}, x.options()), rstd = at::empty({R}, x.options());
    torch::Tensor out = at::mm(x, w);  // (R, M)
    const torch::Tensor s = center ? w.sum(0) : at::zeros({M}, w.options());  // (M)
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "normed_matmul", [&] {
      const scalar_t* xp = x.data_ptr<scalar_t>();
      const scalar_t* sp = s.data_ptr<scalar_t>();
      scalar_t *mp = mu.data_ptr<scalar_t>(), *rp = rstd.data_ptr<scalar_t>(), *op = out.data_ptr<scalar_t>();
      at::parallel_for(0, R, grain(2 * K), [&](int64_t b, int64_t e) {
        row_stats(xp, mp, rp, K, center, scalar_t(eps), b, e);
        for (int64_t r = b; r < e; ++r) {
          for (int64_t m = 0; m < M; ++m) op[r * M + m] = rp[r] * (op[r * M + m] - mp[r] * sp[m]);
        }
      });
    });
    ctx->save_for_backward({x, w, mu, rstd, out});
    ctx->saved_data["center"] = center;
    return out;
  }

  // With g = d out * rstd and c = sum_m d out * out (per row):
  //   d x = g w^T - (g . 1^T w) / K [center] - c rstd^2 (x - mu) / K
  //   d w = x^T g - 1 (mu^T g) [center]
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &w = saved[1], &mu = saved[2], &rstd = saved[3], &out = saved[4];
    const bool center = ctx->saved_data["center"].toBool();
    const torch::Tensor dout = grads[0].contiguous();
    const int64_t R = x.size(0), K = x.size(1);
    const torch::Tensor g = dout * rstd.unsqueeze(1);  // (R, M)
    torch::Tensor dx, dw;
    if (ctx->needs_input_grad(0)) {
      const torch::Tensor b = (dout * out).sum(1) * rstd * rstd / -double(K);  // (R): the coefficient of x
      torch::Tensor a = -b * mu;                                                // (R): the constant
      if (center) a -= at::mv(g, w.sum(0)) / double(K);
      dx = at::mm(g, w.t());  // (R, K)
      AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "normed_matmul_backward", [&] {
        const scalar_t *xp = x.data_ptr<scalar_t>(), *ap = a.data_ptr<scalar_t>(), *bp = b.data_ptr<scalar_t>();
        scalar_t* dp = dx.data_ptr<scalar_t>();
        at::parallel_for(0, R, grain(K), [&](int64_t begin, int64_t end) {
          for (int64_t r = begin; r < end; ++r) {
            scalar_t* dr = dp + r * K;
            const scalar_t* xr = xp + r * K;
            for (int64_t c = 0; c < K; ++c) dr[c] += ap[r] + bp[r] * xr[c];
          }
        });
      });
    }
    if (ctx->needs_input_grad(1)) {
      dw = at::mm(x.t(), g);  // (K, M)
      if (center) dw -= at::mv(g.t(), mu).unsqueeze(0);
    }
    return {dx, dw, torch::Tensor(), torch::Tensor()};
  }
};

// ---------------------------------------------------------------------------- Sinkhorn-Knopp

// Everything that a vector clone (HCX_VECTOR_CLONES, below) calls is inlined
// into it: a call left out of line goes to a copy compiled for the baseline
// ISA (SSE2). normalise_lines was such a copy, and 37 % of an mHC×4 step.
#define HCX_CLONE_INLINE inline __attribute__((always_inline))

// Lane-wise exp and log, branch-free and call-free so that loops over the L
// lanes of a block vectorise (whatever n is). Range reduction as in fdlibm;
// the polynomials' truncation errors are under float's and double's rounding
// (float: < 1e-8 relative, double: < 2e-16).
template <typename T>
struct LaneMath;

template <>
struct LaneMath<float> {
  using Bits = int32_t;
  static constexpr int kMantissa = 23, kBias = 127;
  static constexpr float kUnder = -87.0f;       // exp below this: 0 (under the smallest normal)
  static constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23: x + kMagic rounds x to an integer in the low bits
  static constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
  HCX_CLONE_INLINE static float poly_exp(float r) {  // exp(r), |r| <= ln2 / 2: Taylor to degree 7
    return 1 + r * (1 + r * (1.f / 2 + r * (1.f / 6 + r * (1.f / 24 + r * (1.f / 120 + r * (1.f / 720 + r * (1.f / 5040)))))));
  }
  HCX_CLONE_INLINE static float poly_log(float f) {  // log((1 + f) / (1 - f)) = 2 atanh(f), |f| <= 0.172: to f^11
    const float f2 = f * f;
    return f * (2 + f2 * (2.f / 3 + f2 * (2.f / 5 + f2 * (2.f / 7 + f2 * (2.f / 9 + f2 * (2.f / 11))))));
  }
};

template <>
struct LaneMath<double> {
  using Bits = int64_t;
  static constexpr int kMantissa = 52, kBias = 1023;
  static constexpr double kUnder = -708.0;
  static constexpr double kMagic = 6755399441055744.0;  // 1.5 * 2^52
  static constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
  HCX_CLONE_INLINE static double poly_exp(double r) {  // Taylor to degree 12: 1 + r (1 + r/2 (1 + r/3 (...)))
    double p = 1;
    for (double inv_k : {1. / 12, 1. / 11, 1. / 10, 1. / 9, 1. / 8, 1. / 7, 1. / 6, 1. / 5, 1. / 4, 1. / 3, 1. / 2, 1.}) {
      p = 1 + r * p * inv_k;
    }
    return p;
  }
  HCX_CLONE_INLINE static double poly_log(double f) {  // to f^21
    const double f2 = f * f;
    double p = 2.0 / 21;
    for (double k : {19., 17., 15., 13., 11., 9., 7., 5., 3., 1.}) p = 2 / k + f2 * p;
    return f * p;
  }
};

template <typename T>
HCX_CLONE_INLINE T from_bits(typename LaneMath<T>::Bits b) {
  T v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}
template <typename T>
HCX_CLONE_INLINE typename LaneMath<T>::Bits to_bits(T v) {
  typename LaneMath<T>::Bits b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// exp(x) for x <= 0 (what Sinkhorn takes: an entry minus its line's maximum):
// x = k ln2 + r, exp(x) = 2^k exp(r).
template <typename T>
HCX_CLONE_INLINE T exp_nonpositive(T x) {
  using M = LaneMath<T>;
  using Bits = typename M::Bits;
  const bool under = x < M::kUnder;
  const T xc = under ? M::kUnder : x;
  const T kf = xc * T(1.4426950408889634) + M::kMagic;  // round(x / ln2) in the low bits
  const T k = kf - M::kMagic;
  const T r = (xc - k * M::kLn2Hi) - k * M::kLn2Lo;
  // In unsigned arithmetic: for a NaN x the difference is negative, and a left
  // shift of a negative value is undefined (UBSan); exp is NaN whatever the scale.
  using Unsigned = std::make_unsigned_t<Bits>;
  const Unsigned kb = Unsigned(to_bits(kf)) - Unsigned(to_bits(M::kMagic));
  const T scale = from_bits<T>(Bits((kb + Unsigned(M::kBias)) << M::kMantissa));  // 2^k
  return under ? T(0) : M::poly_exp(r) * scale;
}

// log(s) for a normal s >= 1 (a line's sum of exp(entry - max)): s = 2^e m,
// m in [sqrt(1/2), sqrt(2)), log m = 2 atanh((m - 1) / (m + 1)).
template <typename T>
HCX_CLONE_INLINE T log_atleast1(T s) {
  using M = LaneMath<T>;
  using Bits = typename M::Bits;
  const Bits b = to_bits(s);
  const Bits mant = (Bits(1) << M::kMantissa) - 1;
  const T m1 = from_bits<T>((b & mant) | (Bits(M::kBias) << M::kMantissa));  // [1, 2)
  // The exponent field as a T, exactly: 2^mantissa-bits + field, minus 2^mantissa-bits.
  const T field = from_bits<T>((b >> M::kMantissa) | (Bits(M::kBias + M::kMantissa) << M::kMantissa)) -
                  from_bits<T>(Bits(M::kBias + M::kMantissa) << M::kMantissa);
  const bool big = m1 > T(1.4142135623730951);
  const T m = big ? m1 * T(0.5) : m1;
  const T e = field - T(M::kBias) + (big ? T(1) : T(0));
  return e * T(0.6931471805599453) + M::poly_log((m - 1) / (m + 1));
}

template <typename T>
constexpr int64_t kLanes = 64 / sizeof(T);

// One round's half on a block: every row (rows) or every column of Y (n*n
// entries of L lanes) minus its logsumexp; P (same layout) gets exp of the
// result, the row or column softmax.
template <typename T>
HCX_CLONE_INLINE void normalise_lines(T* __restrict Y, T* __restrict P, int64_t n, bool rows) {
  constexpr int64_t L = kLanes<T>;
  for (int64_t line = 0; line < n; ++line) {
    const int64_t first = rows ? line * n : line, step = rows ? 1 : n;  // entry k of the line: first + k step
    T mx[L], sum[L];
    for (int64_t l = 0; l < L; ++l) mx[l] = Y[first * L + l];
    for (int64_t k = 1; k < n; ++k) {
      const T* y = Y + (first + k * step) * L;
      for (int64_t l = 0; l < L; ++l) mx[l] = y[l] > mx[l] ? y[l] : mx[l];
    }
    for (int64_t l = 0; l < L; ++l) sum[l] = 0;
    for (int64_t k = 0; k < n; ++k) {
      const T* y = Y + (first + k * step) * L;
      T* p = P + (first + k * step) * L;
      for (int64_t l = 0; l < L; ++l) {
        p[l] = exp_nonpositive(y[l] - mx[l]);
        sum[l] += p[l];
      }
    }
    T lse[L], inv[L];
    for (int64_t l = 0; l < L; ++l) {
      lse[l] = mx[l] + log_atleast1(sum[l]);
      inv[l] = T(1) / sum[l];
    }
    for (int64_t k = 0; k < n; ++k) {
      T* y = Y + (first + k * step) * L;
      T* p = P + (first + k * step) * L;
      for (int64_t l = 0; l < L; ++l) {
        y[l] -= lse[l];
        p[l] *= inv[l];
      }
    }
  }
}

// Blocks [b0, b1) of L matrices each (of N, n x n, contiguous): forward
// (g_out null) writes out; backward writes g_logits from g_out, recomputing the
// rounds. scratch holds (2 iters + 2) n^2 L values.
template <typename T>
HCX_CLONE_INLINE void sinkhorn_blocks(const T* logits, T* out, const T* g_out, T* g_logits, int64_t N, int64_t n,
                                      int64_t iters, int64_t b0, int64_t b1, T* scratch) {
  constexpr int64_t L = kLanes<T>;
  const int64_t nn = n * n, steps = 2 * iters;
  const bool backward = g_out != nullptr;
  T* Y = scratch;             // the iterate
  T* P = scratch + nn * L;    // exp of each step's result: all steps (backward) or the latest
  T* G = P + (backward ? steps : 1) * nn * L;  // the gradient with respect to the iterate
  for (int64_t blk = b0; blk < b1; ++blk) {
    const int64_t t0 = blk * L, cnt = std::min<int64_t>(L, N - t0);
    for (int64_t e = 0; e < nn; ++e) {
      for (int64_t l = 0; l < L; ++l) Y[e * L + l] = l < cnt ? logits[(t0 + l) * nn + e] : T(0);
    }
    for (int64_t st = 0; st < steps; ++st) normalise_lines(Y, P + (backward ? st : 0) * nn * L, n, st % 2 == 0);
    const T* last = P + (backward ? steps - 1 : 0) * nn * L;  // the output: exp of the last iterate
    if (!backward) {
      for (int64_t l = 0; l < cnt; ++l) {
        for (int64_t e = 0; e < nn; ++e) out[(t0 + l) * nn + e] = last[e * L + l];
      }
      continue;
    }
    // d iterate = d out * out; through a line's "minus logsumexp": d y -= softmax * (sum of d y over the line).
    for (int64_t e = 0; e < nn; ++e) {
      for (int64_t l = 0; l < L; ++l) G[e * L + l] = (l < cnt ? g_out[(t0 + l) * nn + e] : T(0)) * last[e * L + l];
    }
    for (int64_t st = steps - 1; st >= 0; --st) {
      const bool rows = st % 2 == 0;
      const T* p = P + st * nn * L;
      for (int64_t line = 0; line < n; ++line) {
        const int64_t first = rows ? line * n : line, step = rows ? 1 : n;
        T tot[L];
        for (int64_t l = 0; l < L; ++l) tot[l] = 0;
        for (int64_t k = 0; k < n; ++k) {
          for (int64_t l = 0; l < L; ++l) tot[l] += G[(first + k * step) * L + l];
        }
        for (int64_t k = 0; k < n; ++k) {
          const int64_t e = first + k * step;
          for (int64_t l = 0; l < L; ++l) G[e * L + l] -= p[e * L + l] * tot[l];
        }
      }
    }
    for (int64_t l = 0; l < cnt; ++l) {
      for (int64_t e = 0; e < nn; ++e) g_logits[(t0 + l) * nn + e] = G[e * L + l];
    }
  }
}

// ---------------------------------------------------------------------------- SwiGLU

// bfloat16 bits to float (the high half) and back, rounded to nearest even
// (NaN stays NaN), branch-free so that the loops vectorise.
HCX_CLONE_INLINE void bf16_to_float(const uint16_t* __restrict s, float* __restrict d, int64_t len) {
  for (int64_t c = 0; c < len; ++c) d[c] = from_bits<float>(uint32_t(s[c]) << 16);
}
HCX_CLONE_INLINE void float_to_bf16(const float* __restrict s, uint16_t* __restrict d, int64_t len) {
  for (int64_t c = 0; c < len; ++c) {
    const uint32_t b = to_bits(s[c]);
    const uint32_t rounded = (b + 0x7FFFu + ((b >> 16) & 1u)) >> 16;
    d[c] = uint16_t((b & 0x7FFFFFFFu) > 0x7F800000u ? 0x7FC0u : rounded);
  }
}

// sigmoid(x) = 1 / (1 + e^-x), from e = exp(-|x|) <= 1: no overflow either way.
template <typename T>
HCX_CLONE_INLINE T sigmoid(T x) {
  const T e = exp_nonpositive(x < 0 ? x : -x);
  return (x < 0 ? e : T(1)) / (T(1) + e);
}

// len entries of SwiGLU: out = silu(gate) up, or, with g given, its gradient
//   ga = g up s (1 + gate (1 - s)),   gb = g gate s,   s = sigmoid(gate).
template <typename T>
HCX_CLONE_INLINE void swiglu_span(const T* __restrict gate, const T* __restrict up, const T* __restrict g,
                                  T* __restrict out, T* __restrict gb, int64_t len) {
  if (g == nullptr) {
    for (int64_t c = 0; c < len; ++c) out[c] = gate[c] * sigmoid(gate[c]) * up[c];
    return;
  }
  for (int64_t c = 0; c < len; ++c) {
    const T a = gate[c], sg = sigmoid(a);
    out[c] = g[c] * up[c] * sg * (T(1) + a * (T(1) - sg));
    gb[c] = g[c] * a * sg;
  }
}

// Rows [r0, r1) of u (R, 2h) = [gate | up]: out (R, h), or with g (R, h) the
// gradient (R, 2h). bfloat16 rows go through float in chunks (one loop that
// both converts and computes does not vectorise with GCC 12).
template <typename S>
HCX_CLONE_INLINE void swiglu_rows(const S* u, const S* g, S* out, int64_t h, int64_t r0, int64_t r1) {
  const int64_t out_row = g == nullptr ? h : 2 * h;
  for (int64_t r = r0; r < r1; ++r) {
    const S* gate = u + r * 2 * h;
    S* o = out + r * out_row;
    const S* gr = g == nullptr ? nullptr : g + r * h;
    if constexpr (!std::is_same_v<S, uint16_t>) {
      swiglu_span(gate, gate + h, gr, o, g == nullptr ? nullptr : o + h, h);
    } else {
      constexpr int64_t kChunk = 256;
      float a[kChunk], b[kChunk], gc[kChunk], oa[kChunk], ob[kChunk];
      for (int64_t c0 = 0; c0 < h; c0 += kChunk) {
        const int64_t len = std::min(kChunk, h - c0);
        bf16_to_float(gate + c0, a, len);
        bf16_to_float(gate + h + c0, b, len);
        if (gr != nullptr) bf16_to_float(gr + c0, gc, len);
        swiglu_span<float>(a, b, gr == nullptr ? nullptr : gc, oa, ob, len);
        float_to_bf16(oa, o + c0, len);
        if (gr != nullptr) float_to_bf16(ob, o + h + c0, len);
      }
    }
  }
}

// One clone per vector width, picked at load time for the CPU at hand.
#define HCX_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
HCX_VECTOR_CLONES void sinkhorn_blocks_float(const float* logits, float* out, const float* g_out, float* g_logits,
                                             int64_t N, int64_t n, int64_t iters, int64_t b0, int64_t b1,
                                             float* scratch) {
  sinkhorn_blocks(logits, out, g_out, g_logits, N, n, iters, b0, b1, scratch);
}
HCX_VECTOR_CLONES void sinkhorn_blocks_double(const double* logits, double* out, const double* g_out,
                                              double* g_logits, int64_t N, int64_t n, int64_t iters, int64_t b0,
                                              int64_t b1, double* scratch) {
  sinkhorn_blocks(logits, out, g_out, g_logits, N, n, iters, b0, b1, scratch);
}
HCX_VECTOR_CLONES void swiglu_rows_float(const float* u, const float* g, float* out, int64_t h, int64_t r0,
                                         int64_t r1) {
  swiglu_rows(u, g, out, h, r0, r1);
}
HCX_VECTOR_CLONES void swiglu_rows_double(const double* u, const double* g, double* out, int64_t h, int64_t r0,
                                          int64_t r1) {
  swiglu_rows(u, g, out, h, r0, r1);
}
HCX_VECTOR_CLONES void swiglu_rows_bf16(const uint16_t* u, const uint16_t* g, uint16_t* out, int64_t h, int64_t r0,
                                        int64_t r1) {
  swiglu_rows(u, g, out, h, r0, r1);
}
#undef HCX_VECTOR_CLONES
#undef HCX_CLONE_INLINE

// u (R, 2h) contiguous; g (R, h) contiguous or undefined (forward) -> out (R, h) or gu (R, 2h).
torch::Tensor swiglu_apply(const torch::Tensor& u, const torch::Tensor& g) {
  const int64_t h = u.size(-1) / 2, R = u.numel() / (2 * h);
  torch::Tensor out = g.defined() ? at::empty_like(u) : at::empty({R, h}, u.options());
  at::parallel_for(0, R, grain(20 * h), [&](int64_t r0, int64_t r1) {
    if (u.scalar_type() == at::kFloat) {
      swiglu_rows_float(u.data_ptr<float>(), g.defined() ? g.data_ptr<float>() : nullptr, out.data_ptr<float>(), h, r0,
                        r1);
    } else if (u.scalar_type() == at::kDouble) {
      swiglu_rows_double(u.data_ptr<double>(), g.defined() ? g.data_ptr<double>() : nullptr, out.data_ptr<double>(), h,
                         r0, r1);
    } else {
      const auto bits = [](const torch::Tensor& t) { return reinterpret_cast<uint16_t*>(t.data_ptr<at::BFloat16>()); };
      swiglu_rows_bf16(bits(u), g.defined() ? bits(g) : nullptr, bits(out), h, r0, r1);
    }
  });
  return out;
}

class SwiGlu : public torch::autograd::Function<SwiGlu> {
 public:
  // u (..., 2h) contiguous, float, double or bfloat16 -> (..., h)
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& u) {
    ctx->save_for_backward({u});
    std::vector<int64_t> shape = u.sizes().vec();
    shape.back() /= 2;
    return swiglu_apply(u, torch::Tensor()).view(shape);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const torch::Tensor u = ctx->get_saved_variables()[0];
    return {swiglu_apply(u, grads[0].contiguous()).view(u.sizes())};
  }
};

template <typename T>
void sinkhorn_parallel(const T* logits, T* out, const T* g_out, T* g_logits, int64_t N, int64_t n, int64_t iters) {
  constexpr int64_t L = kLanes<T>;
  const int64_t blocks = (N + L - 1) / L, backward = g_out != nullptr;
  const int64_t scratch = (2 * iters * backward + 3) * n * n * L;
  at::parallel_for(0, blocks, grain(20 * iters * n * n * L), [&](int64_t b0, int64_t b1) {
    std::vector<T> buf(scratch);
    if constexpr (std::is_same_v<T, float>) {
      sinkhorn_blocks_float(logits, out, g_out, g_logits, N, n, iters, b0, b1, buf.data());
    } else {
      sinkhorn_blocks_double(logits, out, g_out, g_logits, N, n, iters, b0, b1, buf.data());
    }
  });
}

class Sinkhorn : public torch::autograd::Function<Sinkhorn> {
 public:
  // logits (N, n, n) contiguous, iters >= 1 -> (N, n, n)
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& logits, int64_t iters) {
    const int64_t n = logits.size(-1), N = logits.numel() / (n * n);
    torch::Tensor out = at::empty_like(logits);
    AT_DISPATCH_FLOATING_TYPES(logits.scalar_type(), "sinkhorn_knopp", [&] {
      sinkhorn_parallel<scalar_t>(logits.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), nullptr, nullptr, N, n,
                                  iters);
    });
    ctx->save_for_backward({logits});
    ctx->saved_data["iters"] = iters;
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const torch::Tensor logits = ctx->get_saved_variables()[0];
    const int64_t iters = ctx->saved_data["iters"].toInt();
    const torch::Tensor g = grads[0].contiguous();
    const int64_t n = logits.size(-1), N = logits.numel() / (n * n);
    torch::Tensor gl = at::empty_like(logits);
    AT_DISPATCH_FLOATING_TYPES(logits.scalar_type(), "sinkhorn_knopp_backward", [&] {
      sinkhorn_parallel<scalar_t>(logits.data_ptr<scalar_t>(), nullptr, g.data_ptr<scalar_t>(),
                                  gl.data_ptr<scalar_t>(), N, n, iters);
    });
    return {gl, torch::Tensor()};
  }
};

// HCX_FUSED=0 in the environment: every op runs its reference form (train_bench
// --unfused measures whether the fused ops pay); set_fused_ops for the tests.
std::atomic<bool>& fused_flag() {
  static std::atomic<bool> enabled = [] {
    const char* v = std::getenv("HCX_FUSED");
    return v == nullptr || std::string(v) != "0";
  }();
  return enabled;
}

bool fusable(std::initializer_list<const at::Tensor*> ts) {
  if (!fused_flag().load()) return false;
  const at::ScalarType dtype = ts.begin()[0]->scalar_type();
  if (dtype != at::kFloat && dtype != at::kDouble) return false;
  for (const at::Tensor* t : ts) {
    if (!t->device().is_cpu() || t->scalar_type() != dtype) return false;
  }
  return true;
}

// Refuses weights `w` that are not (n, k) or (.., n, k) (beta: k = n, (n) or (.., n)) for the n
// streams of H, on either path; `what` names them.
void check_weights(const torch::Tensor& w, const torch::Tensor& H, int64_t k, const char* what) {
  const int64_t n = H.size(-2);
  if (w.dim() < 1 || w.size(-1) != k || (k != n && (w.dim() < 2 || w.size(-2) != n))) {
    throw std::invalid_argument(std::string("stream mixing: ") + what + " has the wrong shape for " +
                                std::to_string(n) + " streams");
  }
}

// `w` (n, k) or (B, T, n, k) expanded to (B, T, n, k) and made contiguous.
torch::Tensor per_token(const torch::Tensor& w, const torch::Tensor& H, int64_t k) {
  const int64_t n = H.size(-2);
  std::vector<int64_t> shape = H.sizes().vec();
  if (k == n) {
    shape.pop_back();  // (B, T, n)
  } else {
    shape.back() = k;  // (B, T, n, k)
  }
  return w.expand(shape).contiguous();
}

void check_streams(const at::Tensor& H) {
  if (H.dim() != 4) {
    throw std::invalid_argument("stream mixing: streams must be (B, T, n, d), got " + std::to_string(H.dim()) +
                                " dimensions");
  }
}

}  // namespace

std::pair<at::Tensor, at::Tensor> read_streams_reference(const at::Tensor& alpha, const at::Tensor& H) {
  const int64_t n = H.size(-2), r = alpha.size(-1) - n;
  const torch::Tensor mix = at::matmul(alpha.transpose(-1, -2), H);  // (.., r+n, n) x (B, T, n, d) -> (B, T, r+n, d)
  return {mix.narrow(-2, 0, r).reshape({H.size(0), H.size(1), r * H.size(-1)}), mix.narrow(-2, r, n)};
}

at::Tensor write_streams_reference(const at::Tensor& rest, const at::Tensor& beta, const at::Tensor& y) {
  if (y.size(-1) == rest.size(-1)) return beta.unsqueeze(-1) * y.unsqueeze(-2) + rest;  // (.., n, 1) * (B, T, 1, d)
  return beta.unsqueeze(-1) * y.reshape(rest.sizes()) + rest;                           // (.., n, 1) * (B, T, n, d)
}

std::pair<at::Tensor, at::Tensor> read_streams(const at::Tensor& alpha, const at::Tensor& H) {
  check_streams(H);
  if (alpha.dim() < 2 || alpha.size(-1) <= H.size(-2)) {
    throw std::invalid_argument("stream mixing: alpha needs more columns than the " + std::to_string(H.size(-2)) +
                                " streams (the reads, then one per stream)");
  }
  check_weights(alpha, H, alpha.size(-1), "alpha");
  if (!fusable({&H, &alpha})) return read_streams_reference(alpha, H);
  const torch::Tensor a = per_token(alpha, H, alpha.size(-1));
  const variable_list out = ReadStreams::apply(a, H.contiguous());
  return {out[0], out[1]};
}

at::Tensor write_streams(const at::Tensor& rest, const at::Tensor& beta, const at::Tensor& y) {
  check_streams(rest);
  const int64_t n = rest.size(2), d = rest.size(3);
  if (y.dim() != 3 || y.size(0) != rest.size(0) || y.size(1) != rest.size(1) ||
      (y.size(2) != d && y.size(2) != n * d)) {
    throw std::invalid_argument("stream mixing: the sublayer output must be (B, T, d) like a stream or (B, T, n d)");
  }
  check_weights(beta, rest, n, "beta");
  if (!fusable({&rest, &beta, &y})) return write_streams_reference(rest, beta, y);
  const torch::Tensor b = per_token(beta, rest, n);
  return WriteStreams::apply(rest.contiguous(), b, y.contiguous());
}

at::Tensor normed_matmul_reference(const at::Tensor& x, const at::Tensor& w, bool center, double eps) {
  const int64_t K = x.size(-1);
  const torch::Tensor xn = center ? at::layer_norm(x, {K}, /*weight=*/{}, /*bias=*/{}, eps)
                                  : x * at::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return at::matmul(xn, w);
}

at::Tensor normed_matmul(const at::Tensor& x, const at::Tensor& w, bool center, double eps) {
  if (x.dim() < 1 || w.dim() != 2 || w.size(0) != x.size(-1)) {
    throw std::invalid_argument("normed_matmul: expected x (..., K) and w (K, M)");
  }
  if (!fusable({&x, &w}) || x.numel() == 0) return normed_matmul_reference(x, w, center, eps);
  const int64_t K = x.size(-1), M = w.size(1);
  std::vector<int64_t> shape = x.sizes().vec();
  shape.back() = M;
  return NormedMatmul::apply(x.reshape({-1, K}).contiguous(), w.contiguous(), center, eps).view(shape);
}

at::Tensor sinkhorn_knopp_reference(const at::Tensor& logits, int64_t iters) {
  at::Tensor l = logits;                           // (..., n, n)
  for (int64_t i = 0; i < iters; ++i) {
    l = l - l.logsumexp(-1, /*keepdim=*/true);     // rows sum to 1
    l = l - l.logsumexp(-2, /*keepdim=*/true);     // columns sum to 1
  }
  return at::exp(l);
}

at::Tensor sinkhorn_knopp(const at::Tensor& logits, int64_t iters) {
  if (logits.dim() < 2 || logits.size(-1) != logits.size(-2) || iters < 0) {
    throw std::invalid_argument("sinkhorn_knopp: expected logits (..., n, n) and iters >= 0");
  }
  if (!fusable({&logits}) || iters == 0 || logits.numel() == 0) return sinkhorn_knopp_reference(logits, iters);
  return Sinkhorn::apply(logits.contiguous(), iters);
}

at::Tensor swiglu_reference(const at::Tensor& u) {
  const auto gate_up = u.chunk(2, -1);  // 2 x (..., h)
  return at::silu(gate_up[0]) * gate_up[1];
}

at::Tensor swiglu(const at::Tensor& u) {
  if (u.dim() < 1 || u.size(-1) % 2 != 0) {
    throw std::invalid_argument("swiglu: expected u (..., 2h) = [gate | up], got last size " +
                                std::to_string(u.dim() < 1 ? 0 : u.size(-1)));
  }
  const at::ScalarType dtype = u.scalar_type();
  const bool kernel = dtype == at::kFloat || dtype == at::kDouble || dtype == at::kBFloat16;
  if (!fused_flag().load() || !kernel || !u.device().is_cpu() || u.numel() == 0) return swiglu_reference(u);
  return SwiGlu::apply(u.contiguous());
}

void set_fused_ops(bool enabled) { fused_flag().store(enabled); }
bool fused_ops() { return fused_flag().load(); }

at::Tensor rope_reference(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t T = x.size(2), half = x.size(3) / 2;
  const torch::Tensor c = cos.narrow(0, 0, T).to(x.dtype());  // (T, hs), broadcast over (B, nh)
  const torch::Tensor s = sin.narrow(0, 0, T).to(x.dtype());
  const torch::Tensor x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half);  // (B, nh, T, hs/2) each
  const torch::Tensor rotated = at::cat({-x2, x1}, -1);                         // (B, nh, T, hs)
  return x * c + rotated * s;
}

at::Tensor rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  if (x.dim() != 4 || x.size(3) % 2 != 0 || cos.dim() != 2 || cos.size(0) < x.size(2) || cos.size(1) != x.size(3) ||
      sin.sizes() != cos.sizes()) {
    throw std::invalid_argument("rope: expected x (B, nh, T, hs) with even hs and tables (>= T, hs)");
  }
  if (!fusable({&x}) || !cos.device().is_cpu() || !sin.device().is_cpu()) {
    return rope_reference(x, cos, sin);
  }
  const int64_t T = x.size(2);
  const torch::Tensor c = cos.narrow(0, 0, T).to(x.scalar_type()).contiguous();
  const torch::Tensor s = sin.narrow(0, 0, T).to(x.scalar_type()).contiguous();
  return Rope::apply(x.stride(3) == 1 ? x : x.contiguous(), c, s);
}

}  // namespace hcx::model
