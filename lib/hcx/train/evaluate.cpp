// Validation loss and multiple-choice scoring; see evaluate.h.
#include "hcx/train/evaluate.h"

#include <algorithm>

#include <ATen/ATen.h>
#include <torch/types.h>
#include <torch/utils.h>

namespace hcx::train {
namespace {

// One scored sequence: the tokens fed to the model and where the choice's
// targets lie in it.
struct Sequence {
  std::vector<int64_t> input;    // tokens 0..L-2 of context + choice (the model's input)
  std::vector<int64_t> target;   // tokens 1..L-1 (what each position predicts)
  int64_t choice_begin = 0;      // first target position that belongs to the choice
};

Sequence make_sequence(const std::vector<int32_t>& context, const std::vector<int32_t>& choice, int64_t seq_len) {
  // The model sees at most seq_len inputs, so context + choice is cut to
  // seq_len + 1 tokens: from the left of the context, never from the choice.
  const int64_t n_choice = std::min<int64_t>(static_cast<int64_t>(choice.size()), seq_len);
  const int64_t n_context = std::min<int64_t>(static_cast<int64_t>(context.size()), seq_len + 1 - n_choice);
  std::vector<int64_t> all;
  all.reserve(n_context + n_choice);
  all.insert(all.end(), context.end() - n_context, context.end());
  all.insert(all.end(), choice.begin(), choice.begin() + n_choice);
  Sequence s;
  s.input.assign(all.begin(), all.end() - 1);
  s.target.assign(all.begin() + 1, all.end());
  s.choice_begin = n_context - 1;  // target i predicts all[i + 1]; the choice starts at all[n_context]
  return s;
}

// Indices 0..n-1 ordered by length(i): batches of similar lengths pad little.
// The order is stable, so equal lengths keep their order (deterministic).
template <typename Length>
std::vector<size_t> by_length(size_t n, Length length) {
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return length(a) < length(b); });
  return order;
}

// Summed log-likelihood of each sequence's choice tokens, in batches of similar length.
std::vector<double> score_sequences(model::GptImpl& model, const std::vector<Sequence>& seqs,
                                    const at::Device& device) {
  constexpr size_t kBatch = 32;
  std::vector<double> out(seqs.size());
  const std::vector<size_t> order = by_length(seqs.size(), [&](size_t i) { return seqs[i].input.size(); });
  torch::NoGradGuard no_grad;
  for (size_t begin = 0; begin < seqs.size(); begin += kBatch) {
    const size_t end = std::min(seqs.size(), begin + kBatch);
    int64_t T = 0;
    for (size_t i = begin; i < end; ++i) T = std::max<int64_t>(T, static_cast<int64_t>(seqs[order[i]].input.size()));
    const int64_t B = static_cast<int64_t>(end - begin);
    // Right-padded: causal attention keeps the padding out of every real position.
    at::Tensor x = at::zeros({B, T}, at::kLong), y = at::zeros({B, T}, at::kLong);
    at::Tensor mask = at::zeros({B, T}, at::kFloat);  // 1 where a target belongs to the choice
    auto xa = x.accessor<int64_t, 2>();
    auto ya = y.accessor<int64_t, 2>();
    auto ma = mask.accessor<float, 2>();
    for (int64_t b = 0; b < B; ++b) {
      const Sequence& s = seqs[order[begin + b]];
      for (size_t t = 0; t < s.input.size(); ++t) {
        xa[b][t] = s.input[t];
        ya[b][t] = s.target[t];
        ma[b][t] = static_cast<int64_t>(t) >= s.choice_begin ? 1.0f : 0.0f;
      }
    }
    const at::Tensor logits = model.forward(x.to(device)).to(at::kFloat);  // (B, T, V)
    const at::Tensor logp = at::log_softmax(logits, -1).gather(-1, y.to(device).unsqueeze(-1)).squeeze(-1);  // (B, T)
    const at::Tensor sums = (logp * mask.to(device)).sum(1).to(at::kCPU, at::kDouble);  // (B)
    auto sa = sums.accessor<double, 1>();
    for (int64_t b = 0; b < B; ++b) out[order[begin + b]] = sa[b];
  }
  return out;
}

// Items whose choices are all one token share one forward: the log-probs at
// the last context position score every choice at once (the same numbers as
// scoring each choice on its own, since attention is causal).
bool single_token_choices(const data::EncodedItem& item) {
  for (const auto& c : item.choices)
    if (c.size() != 1) return false;
  return true;
}

// Log-likelihood of each one-token choice of each item, in batches of similar context length.
std::vector<std::vector<double>> score_single_token_items(model::GptImpl& model,
                                                          const std::vector<const data::EncodedItem*>& items,
                                                          const at::Device& device) {
  constexpr size_t kBatch = 64;
  const int64_t seq_len = model.config().model.seq_len;
  auto context_len = [&](size_t i) { return std::min<int64_t>(static_cast<int64_t>(items[i]->context.size()), seq_len); };
  const std::vector<size_t> order = by_length(items.size(), context_len);
  std::vector<std::vector<double>> out(items.size());
  torch::NoGradGuard no_grad;
  for (size_t begin = 0; begin < items.size(); begin += kBatch) {
    const size_t end = std::min(items.size(), begin + kBatch);
    const int64_t B = static_cast<int64_t>(end - begin);
    int64_t T = 1;
    for (size_t i = begin; i < end; ++i) T = std::max(T, context_len(order[i]));
    at::Tensor x = at::zeros({B, T}, at::kLong);
    std::vector<int64_t> last(static_cast<size_t>(B));
    auto xa = x.accessor<int64_t, 2>();
    for (int64_t b = 0; b < B; ++b) {
      const size_t item = order[begin + b];
      const auto& ctx = items[item]->context;  // its last seq_len tokens
      const int64_t n = context_len(item);
      for (int64_t t = 0; t < n; ++t) xa[b][t] = ctx[ctx.size() - n + t];
      last[static_cast<size_t>(b)] = n - 1;
    }
    const at::Tensor logits = model.forward(x.to(device));  // (B, T, V)
    const int64_t V = logits.size(-1);
    const at::Tensor pos = at::tensor(last, at::kLong).to(device).view({B, 1, 1}).expand({B, 1, V});
    const at::Tensor logp = at::log_softmax(logits.gather(1, pos).squeeze(1).to(at::kFloat), -1)  // (B, V) at each last position
                                .to(at::kCPU, at::kDouble);
    const auto la = logp.accessor<double, 2>();
    for (int64_t b = 0; b < B; ++b) {
      std::vector<double>& scores = out[order[begin + b]];
      for (const auto& c : items[order[begin + b]]->choices) scores.push_back(la[b][c[0]]);
    }
  }
  return out;
}

}  // namespace

double validation_loss(model::GptImpl& model, const std::vector<data::Batch>& batches, const at::Device& device) {
  torch::NoGradGuard no_grad;
  at::Tensor total = at::zeros({}, at::TensorOptions().dtype(at::kDouble).device(device));
  for (const auto& b : batches) total += model.loss(b.x.to(device), b.y.to(device)).to(at::kDouble);
  return total.item<double>() / static_cast<double>(std::max<size_t>(batches.size(), 1));  // one sync per evaluation
}

std::vector<double> choice_log_likelihoods(model::GptImpl& model, const data::EncodedItem& item,
                                           const at::Device& device) {
  std::vector<Sequence> seqs;
  for (const auto& choice : item.choices) seqs.push_back(make_sequence(item.context, choice, model.config().model.seq_len));
  return score_sequences(model, seqs, device);
}

TaskScore score_from_loglik(const std::vector<std::vector<double>>& loglik,
                            const std::vector<data::EncodedItem>& items) {
  TaskScore s;
  int64_t right = 0, right_norm = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    int64_t best = 0, best_norm = 0;
    for (size_t c = 1; c < loglik[i].size(); ++c) {
      if (loglik[i][c] > loglik[i][best]) best = static_cast<int64_t>(c);
      const double norm_c = loglik[i][c] / static_cast<double>(std::max<int64_t>(items[i].choice_bytes[c], 1));
      const double norm_b = loglik[i][best_norm] / static_cast<double>(std::max<int64_t>(items[i].choice_bytes[best_norm], 1));
      if (norm_c > norm_b) best_norm = static_cast<int64_t>(c);
    }
    right += best == items[i].label;
    right_norm += best_norm == items[i].label;
  }
  s.n = static_cast<int64_t>(items.size());
  if (s.n > 0) {
    s.acc = static_cast<double>(right) / static_cast<double>(s.n);
    s.acc_norm = static_cast<double>(right_norm) / static_cast<double>(s.n);
  }
  return s;
}

std::vector<std::vector<double>> task_log_likelihoods(model::GptImpl& model, const data::Task& task,
                                                      const at::Device& device) {
  // One-token items share a forward per item; the others go into one list of
  // sequences (every choice of every item), so batches are full.
  std::vector<const data::EncodedItem*> single;
  std::vector<Sequence> seqs;
  for (const auto& item : task.items) {
    if (single_token_choices(item)) {
      single.push_back(&item);
    } else {
      for (const auto& choice : item.choices) seqs.push_back(make_sequence(item.context, choice, model.config().model.seq_len));
    }
  }
  const std::vector<std::vector<double>> single_scores = score_single_token_items(model, single, device);
  const std::vector<double> flat = score_sequences(model, seqs, device);
  std::vector<std::vector<double>> loglik;
  size_t pos = 0, next_single = 0;
  for (const auto& item : task.items) {
    if (single_token_choices(item)) {
      loglik.push_back(single_scores[next_single++]);
    } else {
      loglik.emplace_back(flat.begin() + pos, flat.begin() + pos + item.choices.size());
      pos += item.choices.size();
    }
  }
  return loglik;
}

TaskScore score_task(model::GptImpl& model, const data::Task& task, const at::Device& device) {
  return score_from_loglik(task_log_likelihoods(model, task, device), task.items);
}

}  // namespace hcx::train
