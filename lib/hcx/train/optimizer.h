// The optimizer of a run (docs/method.md, "Weight decay"): AdamW over the trainable
// parameters in two groups, decayed and not, as the model classifies them
// (model::classify_param). Internal to train/ and its benchmark.
#pragma once

#include <torch/optim/adamw.h>

#include "hcx/config/run_config.h"
#include "hcx/model/gpt.h"

namespace hcx::train {

// AdamW (betas train.beta1/beta2, eps 1e-8) with group 0 = parameters that
// decay (train.weight_decay) and group 1 = the rest (no decay); frozen
// parameters are left out. Logs the size of each group.
torch::optim::AdamW make_optimizer(model::GptImpl& model, const config::TrainConfig& t);

// Sets the learning rate of every group.
void set_lr(torch::optim::AdamW& opt, double lr);

}  // namespace hcx::train
