// Sampling text from a checkpoint (see sample.h).
// Shapes: T context length (<= model.seq_len), V vocab.
#include "hcx/train/sample.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "hcx/data/text_codec.h"
#include "hcx/error.h"
#include "hcx/model/gpt.h"
#include "hcx/train/checkpoint.h"

namespace hcx::train {

namespace {

// The id that follows `context` (the newest seq_len ids are what the model sees).
int64_t next_token(model::GptImpl& gpt, const std::vector<int64_t>& context, const SampleOptions& o,
                   at::Generator& gen) {
  const int64_t T = std::min<int64_t>(static_cast<int64_t>(context.size()), gpt.config().model.seq_len);
  const std::vector<int64_t> window(context.end() - T, context.end());
  const at::Tensor idx = at::tensor(window, at::kLong).reshape({1, T});  // (1, T)
  at::Tensor logits = gpt.forward(idx).select(1, T - 1).squeeze(0).to(at::kFloat);  // (V)
  if (o.temperature == 0.0) return logits.argmax().item<int64_t>();
  logits = logits / o.temperature;
  if (o.top_k > 0 && o.top_k < logits.size(0)) {
    const at::Tensor kth = std::get<0>(logits.topk(o.top_k)).select(0, o.top_k - 1);  // the k-th largest
    logits = logits.masked_fill(logits < kth, -std::numeric_limits<float>::infinity());
  }
  const at::Tensor probs = at::softmax(logits, 0);  // (V)
  return at::multinomial(probs, 1, /*replacement=*/false, gen).item<int64_t>();
}

}  // namespace

std::vector<std::string> validate(const SampleOptions& o) {
  std::vector<std::string> errors;
  if (!(o.temperature >= 0.0) || !std::isfinite(o.temperature))
    errors.push_back("--temperature: expected a number >= 0 (0 is greedy), got " + std::to_string(o.temperature));
  if (o.top_k < 0) errors.push_back("--top-k: expected >= 0 (0: no cut), got " + std::to_string(o.top_k));
  if (o.tokens < 0) errors.push_back("--tokens: expected >= 0, got " + std::to_string(o.tokens));
  return errors;
}

void check(const SampleOptions& o) {
  const auto errors = validate(o);
  if (errors.empty()) return;
  std::string msg = errors.front();
  for (size_t i = 1; i < errors.size(); ++i) msg += "\n" + errors[i];
  throw bad_input(msg);
}

std::string sample_text(const config::RunConfig& cfg, const std::string& run_id,
                        const std::filesystem::path& checkpoint, const SampleOptions& o) {
  check(o);
  const data::TextCodec codec = data::TextCodec::for_run(cfg);
  const std::vector<int32_t> prompt = codec.encode(o.prompt);
  for (int32_t id : prompt) {
    if (id >= cfg.model.vocab_size)
      throw bad_input("--prompt: token " + std::to_string(id) + " is outside the model's vocabulary of " +
                      std::to_string(cfg.model.vocab_size));
  }
  model::Gpt gpt = model::make_model(cfg);  // on the CPU
  load_model_weights(checkpoint, *gpt, run_id);
  gpt->eval();

  const at::NoGradGuard no_grad;
  at::Generator gen = at::detail::createCPUGenerator(o.seed);
  const std::vector<int32_t> start = prompt.empty() ? codec.start() : prompt;
  std::vector<int64_t> context(start.begin(), start.end());
  std::vector<int32_t> generated;
  for (int64_t i = 0; i < o.tokens; ++i) {
    const int64_t id = next_token(*gpt, context, o, gen);
    context.push_back(id);
    generated.push_back(static_cast<int32_t>(id));
  }
  return o.prompt + codec.decode(generated, /*continues=*/!o.prompt.empty());
}

}  // namespace hcx::train
