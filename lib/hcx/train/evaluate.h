// Evaluation of a model without training it: validation loss on fixed
// batches, and zero-shot multiple-choice scores (docs/method.md, "Downstream scores":
// scored the way lm-evaluation-harness does). Internal to train/ (LibTorch types).
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "hcx/data/batch.h"
#include "hcx/data/task_item.h"
#include "hcx/model/gpt.h"

namespace hcx::train {

// Mean next-token cross-entropy (nats) of `model` over `batches`, each moved
// to `device`. Runs under NoGradGuard; the model is left as it was.
double validation_loss(model::GptImpl& model, const std::vector<data::Batch>& batches, const at::Device& device);

struct TaskScore {
  double acc = 0;       // share of items whose highest summed log-likelihood is the label
  double acc_norm = 0;  // the same with each score divided by its choice's length in bytes
  int64_t n = 0;        // items scored
};

// The summed log-likelihood of each choice of `item` given its context:
// log p(choice tokens | context), one value per choice. Context tokens are
// dropped from the left when context + choice exceed the model's seq_len;
// a choice longer than seq_len keeps its first seq_len tokens.
std::vector<double> choice_log_likelihoods(model::GptImpl& model, const data::EncodedItem& item,
                                           const at::Device& device);

// choice_log_likelihoods() of every item of `task`, batched: items whose
// choices are all one token take one forward of their context for all
// choices, the others one sequence per choice.
std::vector<std::vector<double>> task_log_likelihoods(model::GptImpl& model, const data::Task& task,
                                                      const at::Device& device);

// Scores every item of `task` (batched forwards under NoGradGuard). Ties go
// to the lowest index, as argmax does.
TaskScore score_task(model::GptImpl& model, const data::Task& task, const at::Device& device);

// acc and acc_norm from per-item choice scores (plain arithmetic, exposed for tests).
TaskScore score_from_loglik(const std::vector<std::vector<double>>& loglik,
                            const std::vector<data::EncodedItem>& items);

}  // namespace hcx::train
