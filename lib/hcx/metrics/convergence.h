// Curve smoothing and the convergence speed-up (docs/method.md, "Convergence speed-up"; plain C++):
// speed-up = tokens the baseline needed to reach its own final smoothed loss
// ÷ tokens the variant needed to reach that same loss; "not reached" when the
// variant never gets there.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace hcx::metrics {

// Exponential moving average: s_0 = x_0, s_i = alpha · x_i + (1 − alpha) · s_{i−1}.
// Starting from the first value (not from 0) needs no bias correction. alpha
// in (0, 1]; 1 returns the input. Throws Error(kBadInput) otherwise.
std::vector<double> ema(const std::vector<double>& values, double alpha);

// A curve against training tokens: x strictly increasing, y the same length.
struct TokenCurve {
  std::vector<double> tokens;
  std::vector<double> values;
};

// The tokens at which `curve` first reaches `target` (value <= target),
// interpolated linearly between the two evaluations that straddle it; the
// first point's tokens when it already starts at or below. nullopt when the
// curve never reaches it (or is empty).
std::optional<double> tokens_to_reach(const TokenCurve& curve, double target);

struct Speedup {
  double alpha = 0;             // EMA smoothing applied to both curves
  double target = 0;            // the baseline's final smoothed value
  double baseline_tokens = 0;   // tokens the baseline needed to reach it
  std::optional<double> variant_tokens;  // nullopt: not reached
  std::optional<double> speedup;         // baseline_tokens / variant_tokens
};

// Smooths both curves with ema(alpha) and compares them as above. Lower
// values are better (losses). Throws Error(kBadInput) on an empty baseline,
// mismatched lengths or tokens that do not increase.
Speedup convergence_speedup(const TokenCurve& baseline, const TokenCurve& variant, double alpha);

}  // namespace hcx::metrics
