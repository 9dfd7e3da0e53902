// Learning-rate schedules (train.schedule): linear warmup from 0 to train.lr
// over train.warmup_steps, then cosine, linear, constant, or
// warmup-stable-decay (wsd). Plain C++, no LibTorch.
#pragma once

#include <cstdint>

#include "hcx/config/run_config.h"

namespace hcx::train {

// The learning rate of optimizer step `step` (0-based) of a run of
// cfg.steps steps. Decays end at lr * min_lr_ratio on the last step.
double learning_rate(const config::TrainConfig& cfg, int64_t step);

}  // namespace hcx::train
