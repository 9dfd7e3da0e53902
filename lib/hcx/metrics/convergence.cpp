// EMA smoothing and convergence speed-up (see convergence.h).
#include "hcx/metrics/convergence.h"

#include <cmath>
#include <string>

#include "hcx/error.h"

namespace hcx::metrics {
namespace {

void check_curve(const TokenCurve& c, const char* what) {
  if (c.tokens.size() != c.values.size()) {
    throw bad_input(std::string(what) + ": " + std::to_string(c.tokens.size()) + " token counts but " +
                    std::to_string(c.values.size()) + " values");
  }
  for (size_t i = 1; i < c.tokens.size(); ++i) {
    if (!(c.tokens[i] > c.tokens[i - 1])) {
      throw bad_input(std::string(what) + ": tokens must increase, got " + std::to_string(c.tokens[i - 1]) +
                      " then " + std::to_string(c.tokens[i]));
    }
  }
}

}  // namespace

std::vector<double> ema(const std::vector<double>& values, double alpha) {
  if (!(alpha > 0 && alpha <= 1)) throw bad_input("ema: alpha must be in (0, 1], got " + std::to_string(alpha));
  std::vector<double> out;
  out.reserve(values.size());
  for (double v : values) out.push_back(out.empty() ? v : alpha * v + (1.0 - alpha) * out.back());
  return out;
}

std::optional<double> tokens_to_reach(const TokenCurve& curve, double target) {
  for (size_t i = 0; i < curve.values.size(); ++i) {
    if (!(curve.values[i] <= target)) continue;
    if (i == 0) return curve.tokens[0];
    // values[i-1] > target >= values[i]: the crossing lies in between.
    const double y0 = curve.values[i - 1], y1 = curve.values[i];
    const double x0 = curve.tokens[i - 1], x1 = curve.tokens[i];
    if (!std::isfinite(y0)) return x1;
    return x0 + (y0 - target) / (y0 - y1) * (x1 - x0);
  }
  return std::nullopt;
}

Speedup convergence_speedup(const TokenCurve& baseline, const TokenCurve& variant, double alpha) {
  check_curve(baseline, "baseline curve");
  check_curve(variant, "variant curve");
  if (baseline.values.empty()) throw bad_input("convergence_speedup: the baseline curve is empty");
  Speedup s;
  s.alpha = alpha;
  const TokenCurve base_smooth{baseline.tokens, ema(baseline.values, alpha)};
  const TokenCurve var_smooth{variant.tokens, ema(variant.values, alpha)};
  s.target = base_smooth.values.back();
  const auto reached = tokens_to_reach(base_smooth, s.target);  // at the latest at its end...
  if (!reached) throw bad_input("convergence_speedup: the baseline curve ends in a non-finite value");
  s.baseline_tokens = *reached;
  s.variant_tokens = tokens_to_reach(var_smooth, s.target);
  if (s.variant_tokens && *s.variant_tokens > 0) s.speedup = s.baseline_tokens / *s.variant_tokens;
  return s;
}

}  // namespace hcx::metrics
