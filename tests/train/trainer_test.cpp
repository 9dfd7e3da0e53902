// The trainer on tiny runs, in process with a MemorySink: what it records,
// exact resume from a checkpoint, divergence, interruption and optimizer groups.
#include "hcx/train/trainer.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>
#include <torch/cuda.h>

#include "common/temp_dir.h"
#include "hcx/error.h"
#include "hcx/train/checkpoint.h"
#include "hcx/train/memory_estimate.h"
#include "hcx/train/torch_error.h"

namespace hcx::train {
namespace {

namespace fs = std::filesystem;

config::RunConfig tiny(const char* extra = "{}") {
  config::Json j = config::Json::parse(R"({
    "model": {"d_model": 16, "n_layers": 2, "n_heads": 2, "seq_len": 24, "vocab_size": 64},
    "data": {"synthetic_tokens": 20000},
    "train": {"steps": 12, "batch_size": 4, "lr": 3e-3, "warmup_steps": 2, "log_every": 3, "checkpoint_every": 4},
    "eval": {"every": 6, "batches": 2, "diagnostics_every": 6,
             "tasks": [{"name": "syn_recall", "kind": "synthetic", "limit": 8}]}})");
  j.merge_patch(config::expand_dotted(config::Json::parse(extra)));
  return config::parse_or_throw(j);
}

// `base` with `patch` merged in, as JSON text for tiny().
std::string patched(const char* base, const char* patch) {
  config::Json j = config::expand_dotted(config::Json::parse(base));
  j.merge_patch(config::expand_dotted(config::Json::parse(patch)));
  return j.dump();
}

using hcx::test::TempDir;

RunOptions quiet(const fs::path& dir = {}) {
  RunOptions o;
  o.progress = "none";
  o.checkpoint_dir = dir;
  return o;
}

TEST(Trainer, RecordsCurvesEvalsDiagnosticsAndSummary) {
  MemorySink sink;
  const RunOutcome out = train_run(tiny(), quiet(), sink);
  ASSERT_EQ(out.status, RunStatus::kCompleted) << out.error;
  EXPECT_EQ(out.step, 12);
  EXPECT_EQ(out.tokens, 12 * 4 * 24);
  EXPECT_EQ(sink.scalars["train/loss"].size(), 12u);
  EXPECT_EQ(sink.scalars["train/loss"].begin()->first, 1);  // step t = the t-th update
  EXPECT_EQ(sink.scalars["train/grad_norm"].size(), 12u);
  // val/loss at init, every 6 steps and at the end (12 is both)
  std::vector<int64_t> val_steps;
  for (const auto& [s, v] : sink.scalars["val/loss"]) val_steps.push_back(s);
  EXPECT_EQ(val_steps, (std::vector<int64_t>{0, 6, 12}));
  EXPECT_EQ(sink.scalars["time/tokens_per_s"].size(), 4u);  // log_every 3
  EXPECT_EQ(sink.evals.count({12, "syn_recall", "acc"}), 1u);
  EXPECT_EQ(sink.evals.at({12, "syn_recall", "n"}), 8.0);
  // collapse per sublayer pair (2 layers = 4 sublayers -> 3 pairs) and grad norms per sublayer
  EXPECT_EQ(sink.layer_stats.count({6, 2, "cos/median"}), 1u);
  EXPECT_EQ(sink.layer_stats.count({12, 3, "grad_norm"}), 1u);
  EXPECT_EQ(sink.layer_stats.count({12, 3, "cos/median"}), 0u);
  for (const char* key : {"params", "final_train_loss", "final_val_loss", "best_val_loss", "best_val_step",
                          "tokens_per_s", "spikes/train/loss/count", "spikes/window", "memory/peak_rss_bytes"})
    EXPECT_EQ(sink.summaries.count(key), 1u) << key;
  EXPECT_EQ(sink.summaries["final_val_loss"], sink.scalars["val/loss"][12]);
  EXPECT_LT(sink.scalars["val/loss"][12], sink.scalars["val/loss"][0]);  // it learns
}

TEST(Trainer, HyperConnectionRunRecordsMatricesAndGain) {
  MemorySink sink;
  const RunOutcome out = train_run(tiny(R"({"residual.kind": "hc", "residual.n": 2})"), quiet(), sink);
  ASSERT_EQ(out.status, RunStatus::kCompleted) << out.error;
  int hc = 0, unfolded = 0;
  for (const auto& m : sink.matrices) {
    if (m.step != 12) continue;
    hc += m.name == "hc";
    if (m.name == "unfolded") {
      ++unfolded;
      EXPECT_EQ(m.rows, 5);  // 4 sublayers + the output row
    }
  }
  EXPECT_EQ(hc, 4);
  EXPECT_EQ(unfolded, 1);
  EXPECT_EQ(sink.scalars["hc/gain_row"].count(12), 1u);
}

TEST(Trainer, MoeRunTrainsTheAuxLossesAndLogsTheRoutingPerLayer) {
  MemorySink sink;
  const RunOutcome out =
      train_run(tiny(R"({"model.ffn": "moe", "model.moe_experts": 4, "model.moe_top_k": 2})"), quiet(), sink);
  ASSERT_EQ(out.status, RunStatus::kCompleted) << out.error;
  // At the log steps 3, 6, 9, 12, for the FFN sublayers 1 and 3 of the two blocks.
  for (const int64_t step : {3, 12}) {
    for (const int64_t k : {1, 3}) {
      double load = 0;
      for (int e = 0; e < 4; ++e) load += sink.layer_stats.at({step, k, "moe/load/" + std::to_string(e)});
      EXPECT_NEAR(load, 1.0, 1e-12) << step << " " << k;
      EXPECT_EQ(sink.layer_stats.at({step, k, "moe/drop_rate"}), 0.0);
      const double lb = sink.layer_stats.at({step, k, "moe/lb"});
      EXPECT_GE(lb, 0.99);  // 1 at balance; near it for a near-uniform router
      EXPECT_LT(lb, 1.5);
      EXPECT_GT(sink.layer_stats.at({step, k, "moe/z"}), 0.0);
      EXPECT_LE(sink.layer_stats.at({step, k, "moe/entropy"}), std::log(4.0) + 1e-9);
      EXPECT_GE(sink.layer_stats.at({step, k, "moe/max_load"}), 1.0);
      EXPECT_EQ(sink.layer_stats.count({step, k, "moe/dead"}), 1u);
    }
    EXPECT_EQ(sink.layer_stats.count({step, 2, "moe/lb"}), 0u);  // attention sublayers have none
    const double aux = sink.scalars["train/aux_loss"].at(step);
    EXPECT_NEAR(aux, 0.01 * sink.scalars["train/moe_lb"].at(step) + 0.001 * sink.scalars["train/moe_z"].at(step), 1e-6);
  }
  EXPECT_EQ(sink.scalars["train/aux_loss"].size(), 4u);
  EXPECT_EQ(sink.layer_stats.count({4, 1, "moe/lb"}), 0u);  // not a log step
  // train/loss is the cross-entropy alone, comparable with a dense run's.
  EXPECT_LT(sink.scalars["train/loss"].at(12), std::log(64.0));
  EXPECT_LT(sink.scalars["val/loss"][12], sink.scalars["val/loss"][0]);
}

// Stops a run once its progress reaches step `at` (the trainer checks the flag after each step).
struct StopAt : MemorySink {
  int64_t at;
  explicit StopAt(int64_t s) : at(s) {}
  void progress(int64_t s, int64_t t) override {
    MemorySink::progress(s, t);
    if (s >= at) request_stop();
  }
};

TEST(Trainer, ResumeFromCheckpointReproducesTheUninterruptedRun) {
  TempDir full_dir, split_dir;
  MemorySink full, split;
  ASSERT_EQ(train_run(tiny(), quiet(full_dir.path()), full).status, RunStatus::kCompleted);
  // Stop after step 5 (checkpoint at 4 plus the stop checkpoint at 5), then resume.
  MemorySink first;
  {
    config::RunConfig c = tiny();
    c.train.inject_nan_at = 0;
    StopAt stopper(3);
    const RunOutcome out = train_run(c, quiet(split_dir.path()), stopper);
    clear_stop();
    ASSERT_EQ(out.status, RunStatus::kInterrupted);
    EXPECT_EQ(out.step, 3);
  }
  const RunOutcome out = train_run(tiny(), quiet(split_dir.path()), split);
  ASSERT_EQ(out.status, RunStatus::kCompleted) << out.error;
  EXPECT_EQ(split.resumed_from, 3);
  // every step after the resume point matches the uninterrupted run value for value
  for (const auto& [step, loss] : split.scalars["train/loss"]) EXPECT_EQ(loss, full.scalars["train/loss"].at(step)) << step;
  EXPECT_EQ(split.scalars["train/loss"].size(), 9u);
  EXPECT_EQ(split.scalars["val/loss"].at(12), full.scalars["val/loss"].at(12));
  EXPECT_EQ(split.summaries["final_train_loss"], full.summaries["final_train_loss"]);
  EXPECT_EQ(split.summaries["best_val_loss"], full.summaries["best_val_loss"]);
}

TEST(Trainer, NanLossStopsAsDivergedAndKeepsTheLastGoodCheckpoint) {
  TempDir dir;
  MemorySink sink;
  const RunOutcome out = train_run(tiny(R"({"train.inject_nan_at": 6})"), quiet(dir.path()), sink);
  EXPECT_EQ(out.status, RunStatus::kDiverged);
  EXPECT_EQ(out.step, 5);
  EXPECT_NE(out.error.find("non-finite loss at step 6"), std::string::npos) << out.error;
  EXPECT_TRUE(std::isnan(sink.scalars["train/loss"].at(6)));
  EXPECT_EQ(sink.summaries["diverged_step"], 6.0);
  // The checkpoint is the one of step 4, never one written after the NaN.
  MemorySink resumed;
  const RunOutcome again = train_run(tiny(R"({"train.inject_nan_at": 6})"), quiet(dir.path()), resumed);
  EXPECT_EQ(resumed.resumed_from, 4);
  EXPECT_EQ(again.status, RunStatus::kDiverged);
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(Trainer, CheckpointOfAnotherRunIsSetAsideAndTheRunStartsFresh) {
  TempDir dir;
  MemorySink a, b;
  RunOptions opts = quiet(dir.path());
  opts.run_id = "aaaa";
  ASSERT_EQ(train_run(tiny(), opts, a).status, RunStatus::kCompleted);
  opts.run_id = "bbbb";
  const RunOutcome out = train_run(tiny(), opts, b);
  ASSERT_EQ(out.status, RunStatus::kCompleted) << out.error;
  EXPECT_EQ(b.resumed_from, -1);
  EXPECT_EQ(b.scalars["train/loss"].size(), 12u);
  EXPECT_TRUE(fs::exists(dir.path() / "set-aside" / "step-00000012.pt"));
}

// Two databases in one results folder, or a new database beside an old
// checkpoint: the checkpoint names its database, and another one's is not resumed.
TEST(Trainer, CheckpointOfAnotherDatabaseIsSetAsideAndTheRunStartsFresh) {
  TempDir dir;
  MemorySink a, b;
  RunOptions opts = quiet(dir.path());
  opts.db_id = "database-a";
  opts.attempt = 1;
  ASSERT_EQ(train_run(tiny(), opts, a).status, RunStatus::kCompleted);
  opts.db_id = "database-b";
  const RunOutcome out = train_run(tiny(), opts, b);
  ASSERT_EQ(out.status, RunStatus::kCompleted) << out.error;
  EXPECT_EQ(b.resumed_from, -1);
  EXPECT_EQ(b.scalars["train/loss"], a.scalars["train/loss"]);  // trained again, the same curve
  EXPECT_TRUE(fs::exists(dir.path() / "set-aside" / "step-00000012.pt"));
  EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"set-aside", "step-00000012.pt"}));
}

TEST(Trainer, CheckpointWhoseRowsTheDatabaseLacksIsSetAside) {
  TempDir dir;
  MemorySink a, b;
  RunOptions opts = quiet(dir.path());
  StopAt stopper(6);
  ASSERT_EQ(train_run(tiny(), opts, stopper).status, RunStatus::kInterrupted);
  clear_stop();
  std::vector<int64_t> asked;
  opts.history_holds = [&](int64_t step) {
    asked.push_back(step);
    return false;
  };
  ASSERT_EQ(train_run(tiny(), opts, b).status, RunStatus::kCompleted);
  EXPECT_EQ(b.resumed_from, -1);
  EXPECT_EQ(asked, (std::vector<int64_t>{6, 4}));  // both kept checkpoints asked about, newest first
  EXPECT_EQ(names_in(dir.path() / "set-aside"), (std::vector<std::string>{"step-00000004.pt", "step-00000006.pt"}));
}

// The newest checkpoint cut short (a crash while the disk was full, a bad
// copy): the run resumes from the previous one, and the curve is the
// uninterrupted run's, value for value.
TEST(Trainer, TruncatedLatestCheckpointFallsBackToThePreviousOne) {
  TempDir full_dir, dir;
  MemorySink full, resumed;
  ASSERT_EQ(train_run(tiny(), quiet(full_dir.path()), full).status, RunStatus::kCompleted);
  StopAt stopper(9);  // checkpoints of steps 8 and 9 kept (train.keep_checkpoints 2)
  ASSERT_EQ(train_run(tiny(), quiet(dir.path()), stopper).status, RunStatus::kInterrupted);
  clear_stop();
  EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"step-00000008.pt", "step-00000009.pt"}));
  const fs::path latest = dir.path() / "step-00000009.pt";
  fs::resize_file(latest, fs::file_size(latest) / 2);
  const RunOutcome out = train_run(tiny(), quiet(dir.path()), resumed);
  ASSERT_EQ(out.status, RunStatus::kCompleted) << out.error;
  EXPECT_EQ(resumed.resumed_from, 8);
  for (const auto& [step, loss] : resumed.scalars["train/loss"])
    EXPECT_EQ(loss, full.scalars["train/loss"].at(step)) << step;
  EXPECT_EQ(resumed.scalars["train/loss"].size(), 4u);
  EXPECT_EQ(resumed.scalars["val/loss"].at(12), full.scalars["val/loss"].at(12));
}

TEST(Trainer, KeepsTheNewestCheckpointsWhileTrainingAndTheFinalOneAfter) {
  TempDir dir;
  StopAt stopper(9);  // checkpoints of steps 2, 4, 6, 8 and 9 written, the newest 3 kept
  const RunOutcome out = train_run(tiny(R"({"train.checkpoint_every": 2, "train.keep_checkpoints": 3})"),
                                   quiet(dir.path()), stopper);
  clear_stop();
  ASSERT_EQ(out.status, RunStatus::kInterrupted);
  EXPECT_EQ(names_in(dir.path()),
            (std::vector<std::string>{"step-00000006.pt", "step-00000008.pt", "step-00000009.pt"}));
  MemorySink rest;
  ASSERT_EQ(
      train_run(tiny(R"({"train.checkpoint_every": 2, "train.keep_checkpoints": 3})"), quiet(dir.path()), rest).status,
      RunStatus::kCompleted);
  EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"step-00000012.pt"}));
}

// Weight decay at float's limit (lr x weight_decay = 3.06e38) on weights of std 1 makes them
// overflow to inf in the first update, while that step's loss and gradient were finite.
constexpr const char* kOverflowingUpdate =
    R"({"train": {"lr": 3.4e37, "weight_decay": 9, "warmup_steps": 0}, "model.init_std": 1})";

// A tiny run with that update and `patch` on top, its checkpoints in `dir`.
RunOutcome train_overflowing(const char* patch, const TempDir& dir, MemorySink& sink) {
  return train_run(tiny(patched(kOverflowingUpdate, patch).c_str()), quiet(dir.path()), sink);
}

TEST(Trainer, NonFiniteWeightsAreNeverCheckpointed) {
  TempDir dir;
  MemorySink sink;
  const RunOutcome out = train_overflowing(R"({"train.checkpoint_every": 1, "eval.every": 0})", dir, sink);
  EXPECT_EQ(out.status, RunStatus::kDiverged);
  EXPECT_NE(out.error.find("non-finite weights in "), std::string::npos) << out.error;
  EXPECT_NE(out.error.find("at step 1; no checkpoint written"), std::string::npos) << out.error;
  EXPECT_TRUE(list_checkpoints(dir.path()).empty());
}

TEST(Trainer, NonFiniteValidationLossMarksTheRunDiverged) {
  TempDir dir;
  MemorySink sink;
  const RunOutcome out = train_overflowing(R"({"train.checkpoint_every": 0, "eval.every": 1})", dir, sink);
  EXPECT_EQ(out.status, RunStatus::kDiverged);
  EXPECT_NE(out.error.find("non-finite validation loss"), std::string::npos) << out.error;
  EXPECT_FALSE(std::isfinite(sink.scalars["val/loss"].at(1)));
  EXPECT_TRUE(list_checkpoints(dir.path()).empty());
}

// Far beyond the machine: refused from the estimate, before any allocation.
TEST(Trainer, RunThatCannotFitIsRefusedBeforeAllocating) {
  MemorySink sink;
  try {
    train_run(tiny(R"({"model": {"d_model": 8192, "n_layers": 512, "n_heads": 64}})"), quiet(), sink);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("model.n_layers=512, model.d_model=8192: this run needs ~", 0), 0u) << what;
    EXPECT_NE(what.find("TiB (parameters, gradients and AdamW state"), std::string::npos) << what;
    EXPECT_NE(what.find("CPU memory (MemAvailable) has"), std::string::npos) << what;
  }
  EXPECT_TRUE(sink.scalars.empty());
}

TEST(Trainer, MemoryEstimateCountsSixteenBytesPerParameterAndOneMicroBatch) {
  const config::RunConfig c = tiny();
  const MemoryEstimate m = estimate_memory(c);
  MemorySink sink;
  ASSERT_EQ(train_run(c, quiet(), sink).status, RunStatus::kCompleted);
  EXPECT_EQ(m.param_bytes, 16.0 * sink.summaries.at("params"));
  EXPECT_GT(m.activation_bytes, 0);
  EXPECT_EQ(memory_refusal(c, m.total(), "x"), "");
  EXPECT_NE(memory_refusal(c, m.total() - 1, "x"), "");
}

TEST(TorchError, MessageLeavesOutLibTorchsBacktrace) {
  try {
    TORCH_CHECK(false, "shapes do not match: ", 3, " vs ", 4);
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("Exception raised from"), std::string::npos) << "what() has the trace";
    EXPECT_EQ(message_of(e), "shapes do not match: 3 vs 4");
  }
  EXPECT_EQ(message_of(std::runtime_error("plain")), "plain");
}

TEST(Trainer, BadDataFailsBeforeTheFirstStep) {
  MemorySink sink;
  EXPECT_THROW(train_run(tiny(R"({"data": {"source": "text", "path": "/nonexistent/x.txt"}, "model.vocab_size": 256})"),
                         quiet(), sink),
               Error);
  EXPECT_TRUE(sink.scalars.empty());
}

TEST(Trainer, FrozenWidthConnectionsStayAtInit) {
  MemorySink sink;
  const RunOutcome out =
      train_run(tiny(R"({"residual": {"kind": "hc", "n": 2, "dynamic": false, "freeze_width": true}})"), quiet(), sink);
  ASSERT_EQ(out.status, RunStatus::kCompleted);
  for (const auto& m : sink.matrices) {
    if (m.name != "hc") continue;
    // [[0, B], [A_m, A_r]] with A_m = e_{k mod 2} and A_r = I kept; B trained
    const int64_t k = m.layer;
    for (int64_t i = 0; i < 2; ++i) {
      EXPECT_EQ(m.values[static_cast<size_t>((i + 1) * 3)], i == k % 2 ? 1.0 : 0.0);
      for (int64_t j = 0; j < 2; ++j) EXPECT_EQ(m.values[static_cast<size_t>((i + 1) * 3 + j + 1)], i == j ? 1.0 : 0.0);
    }
  }
}

}  // namespace
}  // namespace hcx::train

namespace hcx::train {
namespace {

// bf16 autocast on CPU (oneDNN; AMX where the core has it): every residual
// kind trains to within bf16 rounding of its float32 twin — the same data and
// init, so the curves must agree closely — but not bit for bit, which shows
// the GEMMs really ran in bf16. The run resumes from its checkpoint.
TEST(Trainer, Bf16OnCpuTracksFloat32AndResumes) {
  for (const char* residual :
       {R"({"residual.kind": "pre_norm"})", R"({"residual.kind": "post_norm"})",
        R"({"residual.kind": "hc", "residual.n": 4})", R"({"residual.kind": "mhc", "residual.n": 4})",
        R"({"residual.kind": "frac", "residual.n": 4})", R"({"residual.kind": "laurel", "residual.laurel_rank": 4})",
        R"({"residual.kind": "denseformer"})", R"({"residual.kind": "mudd"})",
        R"({"residual.kind": "hc", "residual.n": 4, "model.ffn": "moe"})"}) {
    MemorySink fp32;
    TempDir fp32_dir;
    ASSERT_EQ(train_run(tiny(residual), quiet(fp32_dir.path()), fp32).status, RunStatus::kCompleted) << residual;
    const std::string bf16_cfg = patched(residual, R"({"train.dtype": "bfloat16"})");
    MemorySink bf16;
    TempDir dir;
    const RunOutcome out = train_run(tiny(bf16_cfg.c_str()), quiet(dir.path()), bf16);
    ASSERT_EQ(out.status, RunStatus::kCompleted) << residual << ": " << out.error;
    const auto& a = fp32.scalars["train/loss"];
    const auto& b = bf16.scalars["train/loss"];
    ASSERT_EQ(a.size(), 12u);
    ASSERT_EQ(b.size(), 12u);
    double max_diff = 0;
    for (const auto& [step, value] : b) {
      ASSERT_TRUE(std::isfinite(value)) << residual << " step " << step;
      max_diff = std::max(max_diff, std::abs(value - a.at(step)));
    }
    EXPECT_GT(max_diff, 0.0) << residual << ": bf16 gave the float32 curve bit for bit; autocast was off";
    EXPECT_LT(max_diff, 0.03) << residual;  // losses ≈ 4.1 (ln 64): under 1 %
    EXPECT_LT(b.rbegin()->second, b.begin()->second) << residual;
    MemorySink again;  // completed: resumes at the final checkpoint and trains nothing more
    const RunOutcome resumed = train_run(tiny(bf16_cfg.c_str()), quiet(dir.path()), again);
    EXPECT_EQ(resumed.status, RunStatus::kCompleted) << residual << ": " << resumed.error;
    EXPECT_EQ(resumed.step, 12) << residual;
  }
}

}  // namespace
}  // namespace hcx::train

namespace hcx::train {
namespace {

// On a GPU (scripts/gpu_check.sh runs the label cuda): bf16 autocast runs of
// every residual kind train, resume from their checkpoint to the same step,
// and record the peak CUDA memory.
TEST(TrainerCuda, Bf16RunsOfEveryResidualKindTrainAndResume) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device (LibTorch reports none)";
  for (const char* residual :
       {R"({"residual.kind": "pre_norm"})", R"({"residual.kind": "hc", "residual.n": 4})",
        R"({"residual.kind": "mhc", "residual.n": 4})", R"({"residual.kind": "frac", "residual.n": 4})",
        R"({"residual.kind": "laurel", "residual.laurel_rank": 4})", R"({"residual.kind": "denseformer"})",
        R"({"residual.kind": "mudd"})", R"({"residual.kind": "hc", "residual.n": 4, "model.ffn": "moe"})"}) {
    config::Json j = config::Json::parse(residual);
    j["train.device"] = "cuda";
    j["train.dtype"] = "bfloat16";
    TempDir dir;
    MemorySink sink;
    const RunOutcome out = train_run(tiny(j.dump().c_str()), quiet(dir.path()), sink);
    ASSERT_EQ(out.status, RunStatus::kCompleted) << residual << ": " << out.error;
    const auto& loss = sink.scalars["train/loss"];
    ASSERT_EQ(loss.size(), 12u) << residual;
    for (const auto& [step, value] : loss) EXPECT_TRUE(std::isfinite(value)) << residual << " step " << step;
    EXPECT_LT(loss.rbegin()->second, loss.begin()->second) << residual;
    EXPECT_GT(sink.summaries.at("memory/peak_cuda_bytes"), 0) << residual;
    MemorySink again;  // completed: resumes at the final checkpoint and trains nothing more
    const RunOutcome resumed = train_run(tiny(j.dump().c_str()), quiet(dir.path()), again);
    EXPECT_EQ(resumed.status, RunStatus::kCompleted) << residual << ": " << resumed.error;
    EXPECT_EQ(resumed.step, 12) << residual;
  }
}

}  // namespace
}  // namespace hcx::train
