// AdamW in two parameter groups; see optimizer.h.
#include "hcx/train/optimizer.h"

#include <spdlog/spdlog.h>

namespace hcx::train {

torch::optim::AdamW make_optimizer(model::GptImpl& model, const config::TrainConfig& t) {
  std::vector<at::Tensor> decay, no_decay;
  int64_t n_decay = 0, n_no_decay = 0, n_frozen = 0;
  for (const auto& p : model::named_params(model)) {
    if (!p.trainable) {
      n_frozen += p.tensor.numel();
      continue;
    }
    (p.decays ? decay : no_decay).push_back(p.tensor);
    (p.decays ? n_decay : n_no_decay) += p.tensor.numel();
  }
  spdlog::info("optimizer: AdamW, {} tensors ({} parameters) with weight decay {}, {} tensors ({} parameters) without, {} frozen",
               decay.size(), n_decay, t.weight_decay, no_decay.size(), n_no_decay, n_frozen);
  auto options = [&](double wd) {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(t.lr).betas({t.beta1, t.beta2}).eps(1e-8).weight_decay(wd));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, options(t.weight_decay));
  groups.emplace_back(no_decay, options(0.0));
  return torch::optim::AdamW(groups, torch::optim::AdamWOptions(t.lr));
}

void set_lr(torch::optim::AdamW& opt, double lr) {
  for (auto& group : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
}

}  // namespace hcx::train
