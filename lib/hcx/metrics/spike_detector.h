// Loss-spike detection over a streaming curve (plain C++, no LibTorch), after
// OLMo 2's spike score (docs/method.md, "Loss spikes"): a value is a spike when it lies more
// than `sigma` standard deviations above the mean of the previous `window`
// values. The trainer feeds one detector per curve (train/loss,
// train/grad_norm); the report reads the rows and counts it writes.
//
// Defaults (config/run_config.h, spikes.window = 50, spikes.sigma = 6.0) suit
// runs of a few thousand steps logged every step: a 50-step window follows the
// falling trend of early training (a longer window mixes in older, higher
// losses and inflates the std, hiding spikes; OLMo's 1000 is sized for runs of
// hundreds of thousands of steps), and 6 sigma keeps minibatch noise out (a
// Gaussian tail gives one false positive in ~10^9 values).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace hcx::metrics {

// One detected spike, as stored in the spikes table.
struct Spike {
  int64_t step = 0;
  double value = 0;  // the spiking value
  double mean = 0;   // mean of the previous `window` values
  double std = 0;    // their standard deviation (population, floored; see observe)
  double score = 0;  // (value - mean) / std
};

// O(1) per value: a ring buffer of the last `window` values plus running sums
// (re-summed exactly once per `window` values, so rounding cannot drift).
// Not thread-safe; one detector belongs to one curve of one run.
class SpikeDetector {
 public:
  // What a checkpoint needs to resume detection exactly where it stopped.
  struct State {
    std::vector<double> recent;  // the last min(window, observed) values, oldest first
    int64_t observed = 0;        // finite values seen so far
    int64_t spikes = 0;          // spikes found so far
  };

  // Throws Error(kBadInput) unless window >= 2 and sigma > 0 (finite).
  SpikeDetector(int64_t window, double sigma);
  // Resumes from `state` (as returned by state()); throws Error(kBadInput)
  // when it holds more than `window` values.
  SpikeDetector(int64_t window, double sigma, const State& state);

  // Feeds the value recorded at `step`; returns the spike when it is one.
  // Rules: no value is judged before `window` values have been seen; the
  // value is judged against the previous `window` values and then joins the
  // window (spikes included, as OLMo 2 does, so a lasting level shift counts
  // only for its first few steps); the std is floored at 1e-12 * max(1, |mean|)
  // so that a perfectly flat window still has a finite score. Non-finite
  // values (NaN, inf: a diverged run) are ignored entirely.
  std::optional<Spike> observe(int64_t step, double value);

  int64_t window() const { return window_; }
  double sigma() const { return sigma_; }
  int64_t observed() const { return observed_; }  // finite values fed so far
  int64_t count() const { return spikes_; }       // spikes found so far
  // Share of observed values that spiked, in [0, 1]; 0 before any value.
  double spike_score() const;
  State state() const;

 private:
  void resum();

  int64_t window_;
  double sigma_;
  std::vector<double> ring_;  // capacity window_; ring_[head_] is the oldest once full
  size_t head_ = 0;
  size_t size_ = 0;
  double shift_ = 0;  // values are summed as (x - shift_) to limit cancellation
  double sum_ = 0, sum_sq_ = 0;
  int64_t since_resum_ = 0;
  int64_t observed_ = 0, spikes_ = 0;
};

// Runs a fresh detector over a whole curve of (step, value) points in step
// order and returns the spikes. Same rules and errors as SpikeDetector.
std::vector<Spike> detect_spikes(const std::vector<std::pair<int64_t, double>>& curve,
                                 int64_t window, double sigma);

// The run_summary rows for one curve's detector, keyed under `metric`
// (e.g. "train/loss"): spikes/<metric>/count, spikes/<metric>/score,
// spikes/<metric>/observed, spikes/window and spikes/sigma.
std::vector<std::pair<std::string, double>> spike_summary(const std::string& metric,
                                                          const SpikeDetector& detector);

}  // namespace hcx::metrics
