// Streaming spike detector (see spike_detector.h for the rule and defaults).
#include "hcx/metrics/spike_detector.h"

#include <algorithm>
#include <cmath>

#include "hcx/error.h"

namespace hcx::metrics {

SpikeDetector::SpikeDetector(int64_t window, double sigma) : window_(window), sigma_(sigma) {
  if (window < 2) throw bad_input("spikes.window: expected an integer >= 2, got " + std::to_string(window));
  if (!(sigma > 0) || !std::isfinite(sigma)) {
    throw bad_input("spikes.sigma: expected a positive number, got " + std::to_string(sigma));
  }
  ring_.assign(static_cast<size_t>(window), 0.0);
}

SpikeDetector::SpikeDetector(int64_t window, double sigma, const State& state)
    : SpikeDetector(window, sigma) {
  if (static_cast<int64_t>(state.recent.size()) > window) {
    throw bad_input("spike detector state holds " + std::to_string(state.recent.size()) +
                    " values, more than spikes.window = " + std::to_string(window));
  }
  for (double v : state.recent) ring_[size_++] = v;  // oldest first, so head_ stays 0
  observed_ = state.observed;
  spikes_ = state.spikes;
  resum();
}

// Exact sums of the window about its own mean: rounding error from the
// running updates is discarded, and the shift keeps (x - shift)^2 small.
void SpikeDetector::resum() {
  double total = 0;
  for (size_t i = 0; i < size_; ++i) total += ring_[i];
  shift_ = size_ ? total / static_cast<double>(size_) : 0.0;
  sum_ = sum_sq_ = 0;
  for (size_t i = 0; i < size_; ++i) {
    const double d = ring_[i] - shift_;
    sum_ += d;
    sum_sq_ += d * d;
  }
  since_resum_ = 0;
}

std::optional<Spike> SpikeDetector::observe(int64_t step, double value) {
  if (!std::isfinite(value)) return std::nullopt;
  ++observed_;
  std::optional<Spike> spike;
  const size_t cap = ring_.size();
  if (size_ == cap) {
    const double n = static_cast<double>(cap);
    const double mean_d = sum_ / n;
    const double var = std::max(0.0, sum_sq_ / n - mean_d * mean_d);
    const double mean = shift_ + mean_d;
    const double std = std::max(std::sqrt(var), 1e-12 * std::max(1.0, std::abs(mean)));
    const double score = (value - mean) / std;
    if (score > sigma_) {
      ++spikes_;
      spike = Spike{step, value, mean, std, score};
    }
    // The oldest value leaves the window.
    const double d_old = ring_[head_] - shift_;
    sum_ -= d_old;
    sum_sq_ -= d_old * d_old;
    ring_[head_] = value;
    head_ = (head_ + 1) % cap;
  } else {
    if (size_ == 0) shift_ = value;
    ring_[(head_ + size_) % cap] = value;
    ++size_;
  }
  const double d_new = value - shift_;
  sum_ += d_new;
  sum_sq_ += d_new * d_new;
  if (++since_resum_ >= static_cast<int64_t>(cap)) resum();  // amortised O(1)
  return spike;
}

double SpikeDetector::spike_score() const {
  return observed_ ? static_cast<double>(spikes_) / static_cast<double>(observed_) : 0.0;
}

SpikeDetector::State SpikeDetector::state() const {
  State s;
  s.observed = observed_;
  s.spikes = spikes_;
  const size_t cap = ring_.size();
  const size_t start = size_ == cap ? head_ : 0;
  for (size_t i = 0; i < size_; ++i) s.recent.push_back(ring_[(start + i) % cap]);
  return s;
}

std::vector<Spike> detect_spikes(const std::vector<std::pair<int64_t, double>>& curve,
                                 int64_t window, double sigma) {
  SpikeDetector detector(window, sigma);
  std::vector<Spike> spikes;
  for (const auto& [step, value] : curve) {
    if (auto s = detector.observe(step, value)) spikes.push_back(*s);
  }
  return spikes;
}

std::vector<std::pair<std::string, double>> spike_summary(const std::string& metric,
                                                          const SpikeDetector& detector) {
  const std::string prefix = "spikes/" + metric + "/";
  return {
      {prefix + "count", static_cast<double>(detector.count())},
      {prefix + "score", detector.spike_score()},
      {prefix + "observed", static_cast<double>(detector.observed())},
      {"spikes/window", static_cast<double>(detector.window())},
      {"spikes/sigma", detector.sigma()},
  };
}

}  // namespace hcx::metrics
