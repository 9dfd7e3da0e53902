// Learning-rate schedules; see schedule.h.
#include "hcx/train/schedule.h"

#include <algorithm>
#include <cmath>

namespace hcx::train {

double learning_rate(const config::TrainConfig& cfg, int64_t step) {
  const double peak = cfg.lr;
  const double floor = cfg.lr * cfg.min_lr_ratio;
  // 1. warmup: step 0 trains at peak/warmup, step warmup-1 at peak
  if (step < cfg.warmup_steps) return peak * static_cast<double>(step + 1) / static_cast<double>(cfg.warmup_steps);
  if (cfg.schedule == "constant") return peak;
  const int64_t last = std::max<int64_t>(cfg.steps - 1, cfg.warmup_steps);
  int64_t decay_start = cfg.warmup_steps;
  // 2. wsd holds the peak until the final decay_fraction of the run
  if (cfg.schedule == "wsd") {
    decay_start = std::max(cfg.warmup_steps,
                           cfg.steps - static_cast<int64_t>(std::ceil(cfg.decay_fraction * static_cast<double>(cfg.steps))));
    if (step < decay_start) return peak;
  }
  // 3. progress through the decay, 0 at its start and 1 on the last step
  const double span = static_cast<double>(std::max<int64_t>(last - decay_start, 1));
  const double t = std::clamp(static_cast<double>(step - decay_start) / span, 0.0, 1.0);
  if (cfg.schedule == "cosine") return floor + (peak - floor) * 0.5 * (1.0 + std::cos(M_PI * t));
  return peak + (floor - peak) * t;  // linear, and wsd's decay
}

}  // namespace hcx::train
