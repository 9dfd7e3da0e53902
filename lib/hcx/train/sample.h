// Text from a trained model (`hcx sample`): the prompt is encoded with the
// run's tokenizer (data/text_codec.h), the model of a checkpoint extends it
// one token at a time, and the text is printed with the prompt first.
// Sampling follows nanoGPT's sample.py: the logits of the last position
// (the context cropped to the newest model.seq_len tokens), divided by the
// temperature, cut to the top k, softmax, one draw from a generator seeded
// with `seed` (so one seed gives one text, on the CPU, on every run).
// Torch-free header; LibTorch lives in sample.cpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "hcx/config/run_config.h"

namespace hcx::train {

struct SampleOptions {
  std::string prompt;        // may be empty: the generation then starts from TextCodec::start()
  int64_t tokens = 200;      // new tokens to generate (0: the prompt alone)
  double temperature = 1.0;  // > 0 divides the logits; 0 is greedy (argmax; seed and top_k unused)
  int64_t top_k = 0;         // sample from the k most likely tokens only; 0: from all
  uint64_t seed = 0;         // the draws' generator
};

// Every problem with `o`, each naming its flag ("--temperature: expected >= 0, got -1").
std::vector<std::string> validate(const SampleOptions& o);

// Throws Error(kBadInput) with every problem validate() finds, one per line.
void check(const SampleOptions& o);

// The prompt followed by `o.tokens` generated tokens, decoded, from the
// weights of `checkpoint` (a checkpoint of run `run_id`, loaded on the CPU).
// Throws Error(kBadInput) for invalid options (validate) or a prompt the
// tokenizer cannot encode, Error(kIo) when the checkpoint cannot be read.
std::string sample_text(const config::RunConfig& cfg, const std::string& run_id,
                        const std::filesystem::path& checkpoint, const SampleOptions& o);

}  // namespace hcx::train
