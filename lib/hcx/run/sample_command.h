// `hcx sample`: text from a trained run's model (train/sample.h), the run
// found by id in the results database (trained_run.h). Torch-free header.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "hcx/train/sample.h"

namespace hcx::run {

struct SampleCommandOptions {
  std::string run_id;
  int64_t step = -1;  // --step; < 0: the newest checkpoint
  std::string db = "results/hcx.db";
  std::string results_dir;
  train::SampleOptions sample;
};

// Prints the prompt and its continuation to `out`, then a newline; returns 0.
// Throws Error(kBadInput) for an unknown run, a run without a checkpoint, a
// --step without one, and for invalid sampling options
// (train::validate, checked before anything is loaded).
int sample_command(const SampleCommandOptions& opts, std::ostream& out);

}  // namespace hcx::run
