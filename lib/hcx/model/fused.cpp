// Fused CPU operations (see fused.h).
// Stream kernels: N = B*T tokens, n streams, d = d_model, all contiguous:
// a (N, n, n+1), h (N, n, d), h0 (N, d), rest (N, n, d), b (N, n), y (N, d).
// RoPE kernels: rows (b, head, t) of hs values; half = hs / 2.
#include "hcx/model/fused.h"

#include <cstdlib>
#include <stdexcept>
#include <string>
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

// <x, y> over d values, in 8 independent partial sums (so that the compiler
// can vectorise without reassociating one sum).
template <typename T>
T dot(const T* __restrict x, const T* __restrict y, int64_t d) {
  T acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t c = 0;
  for (; c + 8 <= d; c += 8) {
    for (int k = 0; k < 8; ++k) acc[k] += x[c + k] * y[c + k];
  }
  for (; c < d; ++c) acc[0] += x[c] * y[c];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

// Row j of the read's output (or its gradient: T const) for token t: j = 0 is
// h0, j >= 1 is stream j-1 of rest.
template <typename T>
struct ReadRows {
  T* h0;
  T* rest;
  int64_t n, d;
  T* operator()(int64_t t, int64_t j) const { return j == 0 ? h0 + t * d : rest + (t * n + j - 1) * d; }
};

// out row j = sum_i a[t, i, j] h[t, i, :]
template <typename T>
void read_tokens(const T* a, const T* h, ReadRows<T> out, int64_t begin, int64_t end) {
  const int64_t n = out.n, m = n + 1, d = out.d;
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
  const int64_t n = g.n, m = n + 1, d = g.d;
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
  // a (B, T, n, n+1), h (B, T, n, d), contiguous, one dtype -> {h0 (B, T, d), rest (B, T, n, d)}
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& a, const torch::Tensor& h) {
    ctx->save_for_backward({a, h});
    const int64_t n = h.size(-2), d = h.size(-1), N = h.numel() / (n * d);
    torch::Tensor rest = at::empty_like(h);
    torch::Tensor h0 = at::empty({h.size(0), h.size(1), d}, h.options());
    AT_DISPATCH_FLOATING_TYPES(h.scalar_type(), "read_streams", [&] {
      const ReadRows<scalar_t> out{h0.data_ptr<scalar_t>(), rest.data_ptr<scalar_t>(), n, d};
      const scalar_t* ap = a.data_ptr<scalar_t>();
      const scalar_t* hp = h.data_ptr<scalar_t>();
      at::parallel_for(0, N, grain(n * (n + 1) * d), [&](int64_t b, int64_t e) { read_tokens(ap, hp, out, b, e); });
    });
    return {h0, rest};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &a = saved[0], &h = saved[1];
    const torch::Tensor g_h0 = grads[0].contiguous(), g_rest = grads[1].contiguous();  // zeros if unused
    const int64_t n = h.size(-2), d = h.size(-1), N = h.numel() / (n * d);
    torch::Tensor ga, gh;
    if (ctx->needs_input_grad(0)) ga = at::empty_like(a);
    if (ctx->needs_input_grad(1)) gh = at::empty_like(h);
    AT_DISPATCH_FLOATING_TYPES(h.scalar_type(), "read_streams_backward", [&] {
      const ReadRows<const scalar_t> g{g_h0.data_ptr<scalar_t>(), g_rest.data_ptr<scalar_t>(), n, d};
      const scalar_t* ap = a.data_ptr<scalar_t>();
      const scalar_t* hp = h.data_ptr<scalar_t>();
      scalar_t* gap = ga.defined() ? ga.data_ptr<scalar_t>() : nullptr;
      scalar_t* ghp = gh.defined() ? gh.data_ptr<scalar_t>() : nullptr;
      at::parallel_for(0, N, grain(2 * n * (n + 1) * d), [&](int64_t b, int64_t e) {
        read_tokens_backward(ap, hp, g, gap, ghp, b, e);
      });
    });
    return {ga, gh};
  }
};

class WriteStreams : public torch::autograd::Function<WriteStreams> {
 public:
  // rest (B, T, n, d), b (B, T, n), y (B, T, d), contiguous, one dtype -> rest + b y
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& rest, const torch::Tensor& b,
                               const torch::Tensor& y) {
    ctx->save_for_backward({b, y});
    const int64_t n = rest.size(-2), d = rest.size(-1), N = rest.numel() / (n * d);
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
            const scalar_t* yt = yp + t * d;
            const scalar_t w = bp[t * n + i];
            for (int64_t c = 0; c < d; ++c) o[c] = r[c] + w * yt[c];
          }
        }
      });
    });
    return out;
  }

  // d rest = g;  d b[t, i] = <g[t, i, :], y[t, :]>;  d y[t, :] = sum_i b[t, i] g[t, i, :]
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &b = saved[0], &y = saved[1];
    const torch::Tensor g = grads[0].contiguous();
    const int64_t n = g.size(-2), d = g.size(-1), N = g.numel() / (n * d);
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
          if (gyp != nullptr) {
            scale(gyp + t * d, bp[t * n], gt, d);
            for (int64_t i = 1; i < n; ++i) axpy(gyp + t * d, bp[t * n + i], gt + i * d, d);
          }
          if (gbp != nullptr) {
            for (int64_t i = 0; i < n; ++i) gbp[t * n + i] = dot(gt + i * d, yp + t * d, d);
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

// HCX_FUSED=0 in the environment: every op runs its reference form. For the
// benchmark only (train_bench --unfused measures whether the fused ops pay).
bool fused_enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("HCX_FUSED");
    return v == nullptr || std::string(v) != "0";
  }();
  return enabled;
}

bool fusable(std::initializer_list<const at::Tensor*> ts) {
  if (!fused_enabled()) return false;
  const at::ScalarType dtype = ts.begin()[0]->scalar_type();
  if (dtype != at::kFloat && dtype != at::kDouble) return false;
  for (const at::Tensor* t : ts) {
    if (!t->device().is_cpu() || t->scalar_type() != dtype) return false;
  }
  return true;
}

// `w` (n, k) or (B, T, n, k) expanded to (B, T, n, k) and made contiguous; `what` names it in errors.
torch::Tensor per_token(const torch::Tensor& w, const torch::Tensor& H, int64_t k, const char* what) {
  const int64_t n = H.size(-2);
  if (w.dim() < 1 || w.size(-1) != k || (k != n && (w.dim() < 2 || w.size(-2) != n))) {
    throw std::invalid_argument(std::string("stream mixing: ") + what + " has the wrong shape for " +
                                std::to_string(n) + " streams");
  }
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
  const torch::Tensor mix = at::matmul(alpha.transpose(-1, -2), H);  // (.., n+1, n) x (B, T, n, d) -> (B, T, n+1, d)
  return {mix.select(-2, 0), mix.narrow(-2, 1, H.size(-2))};
}

at::Tensor write_streams_reference(const at::Tensor& rest, const at::Tensor& beta, const at::Tensor& y) {
  return beta.unsqueeze(-1) * y.unsqueeze(-2) + rest;  // (.., n, 1) * (B, T, 1, d) -> (B, T, n, d)
}

std::pair<at::Tensor, at::Tensor> read_streams(const at::Tensor& alpha, const at::Tensor& H) {
  check_streams(H);
  if (!fusable({&H, &alpha})) return read_streams_reference(alpha, H);
  const torch::Tensor a = per_token(alpha, H, H.size(-2) + 1, "alpha");
  const variable_list out = ReadStreams::apply(a, H.contiguous());
  return {out[0], out[1]};
}

at::Tensor write_streams(const at::Tensor& rest, const at::Tensor& beta, const at::Tensor& y) {
  check_streams(rest);
  if (y.dim() != 3 || y.size(0) != rest.size(0) || y.size(1) != rest.size(1) || y.size(2) != rest.size(3)) {
    throw std::invalid_argument("stream mixing: the sublayer output must be (B, T, d) like the streams");
  }
  if (!fusable({&rest, &beta, &y})) return write_streams_reference(rest, beta, y);
  const torch::Tensor b = per_token(beta, rest, rest.size(-2), "beta");
  return WriteStreams::apply(rest.contiguous(), b, y.contiguous());
}

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
