// What a report is computed from: the selected runs with their parameters,
// curves, evaluations, diagnostics and summaries, held in memory. load.h fills
// it from the results database; tests build it by hand. No SQLite here.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hcx/config/provenance.h"
#include "hcx/run_status.h"

namespace hcx::report {

// A metric curve: steps ascending, values aligned (NaN where none was recorded).
struct Curve {
  std::vector<int64_t> steps;
  std::vector<double> values;
};

struct EvalScore {
  int64_t step = 0;
  std::string task, metric;  // e.g. "piqa", "acc_norm"
  double value = 0;
};

struct LayerStat {
  int64_t step = 0;
  int64_t layer = 0;  // sublayer index k
  std::string name;   // cos/median, cos/p5, cos/p95, grad_norm
  double value = 0;
};

struct Matrix {
  int64_t step = 0;
  int64_t layer = 0;      // sublayer index k; -1 for whole-model matrices
  std::string sublayer;   // "attn" | "ffn" | "model"
  std::string name;       // "hc", "unfolded", ...
  int64_t rows = 0, cols = 0;
  std::vector<double> values;  // row-major
};

struct SpikeMark {
  std::string metric;  // train/loss | train/grad_norm
  int64_t step = 0;
  double value = 0, score = 0;
};

struct RunData {
  std::string id;
  RunStatus status = RunStatus::kPending;
  std::map<std::string, std::string> params;  // flattened config, values as text
  int64_t step = 0;                            // last completed step
  int64_t tokens = 0;                          // training tokens seen
  std::optional<int64_t> param_count;          // model parameters
  std::optional<double> tokens_per_s;          // throughput
  std::map<std::string, Curve> curves;         // metric name -> curve (only those loaded)
  std::vector<SpikeMark> spikes;
  std::vector<EvalScore> evals;
  std::vector<LayerStat> layer_stats;          // diagnostics (last recorded step is enough)
  std::vector<Matrix> matrices;                // HC matrices (last recorded step is enough)
  std::map<std::string, double> summary;       // run_summary: spikes/train/loss/count, ...
  config::Provenance provenance;               // build and data of its latest start; empty fields: unknown
};

struct ReportInput {
  std::string sweep;          // name shown in the title; "" for "all runs"
  std::vector<RunData> runs;  // in grid order
};

}  // namespace hcx::report
