// Where a run's measurements go (CONTRIBUTING.md, "House style": small interfaces). The trainer writes
// through this interface only; store/ implements it on SQLite, tests use the
// in-memory MemorySink below. It lives in metrics/, which both train/ and
// store/ use, so that neither includes the other. Torch-free. One sink belongs to one run and is
// called from one thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace hcx::metrics {

struct SpikeRow {
  std::string metric;  // "train/loss" | "train/grad_norm"
  int64_t step = 0;
  double value = 0, mean = 0, std = 0, score = 0;
};

struct MatrixRow {
  int64_t step = 0;
  int64_t layer = 0;         // sublayer index k, or -1 for whole-model matrices
  std::string sublayer;      // "attn" | "ffn" | "model"
  std::string name;          // "hc", "unfolded", ...
  int64_t rows = 0, cols = 0;
  std::vector<double> values;  // row-major
};

class MetricSink {
 public:
  virtual ~MetricSink() = default;
  // A scalar curve point: "train/loss", "val/loss", "time/tokens_per_s", ...
  virtual void scalar(int64_t step, std::string_view name, double value) = 0;
  virtual void spike(const SpikeRow& row) = 0;
  virtual void eval(int64_t step, std::string_view task, std::string_view metric, double value) = 0;
  virtual void layer_stat(int64_t step, int64_t layer, std::string_view name, double value) = 0;
  virtual void matrix(const MatrixRow& row) = 0;
  // A per-run figure for the summary (final_val_loss, params, spikes/train/loss/count, ...).
  virtual void summary(std::string_view key, double value) = 0;
  // Liveness: the run has completed `step` optimizer steps and seen `tokens` tokens.
  virtual void progress(int64_t step, int64_t tokens) = 0;
  // A resumed run restarts after `step`: rows recorded for later steps are void.
  virtual void resume_from(int64_t step) = 0;
  // End of a log interval: the store commits one transaction here.
  virtual void flush() {}
};

// Keeps everything in memory; for tests and for callers that read results back.
class MemorySink : public MetricSink {
 public:
  void scalar(int64_t step, std::string_view name, double value) override {
    scalars[std::string(name)][step] = value;
  }
  void spike(const SpikeRow& row) override { spikes.push_back(row); }
  void eval(int64_t step, std::string_view task, std::string_view metric, double value) override {
    evals[{step, std::string(task), std::string(metric)}] = value;
  }
  void layer_stat(int64_t step, int64_t layer, std::string_view name, double value) override {
    layer_stats[{step, layer, std::string(name)}] = value;
  }
  void matrix(const MatrixRow& row) override { matrices.push_back(row); }
  void summary(std::string_view key, double value) override { summaries[std::string(key)] = value; }
  void progress(int64_t s, int64_t t) override {
    step = s;
    tokens = t;
  }
  void resume_from(int64_t s) override {
    for (auto& [name, curve] : scalars) curve.erase(curve.upper_bound(s), curve.end());
    resumed_from = s;
  }
  void flush() override { ++flushes; }

  std::map<std::string, std::map<int64_t, double>> scalars;  // name -> step -> value
  std::vector<SpikeRow> spikes;
  std::map<std::tuple<int64_t, std::string, std::string>, double> evals;
  std::map<std::tuple<int64_t, int64_t, std::string>, double> layer_stats;
  std::vector<MatrixRow> matrices;
  std::map<std::string, double> summaries;
  int64_t step = 0, tokens = 0, resumed_from = -1, flushes = 0;
};

}  // namespace hcx::metrics
