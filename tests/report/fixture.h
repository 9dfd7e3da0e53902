// A small sweep with known numbers, in memory and as a results database:
// two groups (residual.kind pre_norm, hc) × three seeds, curves crafted so
// that Δ, its CI and the speed-up have exact answers (worked out below).
// Shared by tests/report and tests/cli.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <gtest/gtest.h>

#include "common/temp_dir.h"
#include "hcx/report/input.h"
#include "hcx/store/db.h"

namespace hcx::report::fixture {

// Worked answers (tokens per step = 2 × 8 × 1 = 16):
//  val/loss at steps 100..400: pre_norm {4, 3, 2.5, 2} + {0, .1, -.1}[seed];
//    hc {4, 2, 2, 2} + {-.1, -.02, -.18}[seed].
//  final val: pre_norm 2.0 ± 0.1; hc 1.9 ± 0.08.
//  Δ pairs (hc - pre_norm) = {-.1, -.12, -.08}: mean -0.1, std 0.02,
//    95% CI -0.1 ± 4.302653 × 0.02 / √3 = [-0.1496827, -0.0503173].
//  MDE (α 0.05, power 0.8) = (t_{.975,2} + t_{.8,2}) · 0.02 / √3
//    = (4.302653 + 1.060660) × 0.0115470 = 0.0619302; with 2 seeds it would
//    be (12.706205 + 1.376382) × 0.02 / √2 = 0.1991579 > 0.1, so 3 seeds.
//  Speed-up (EMA α = 0.5): pre_norm mean {4, 3, 2.5, 2} → {4, 3.5, 3, 2.5},
//    target 2.5 at step 400 = 6400 tokens; hc mean {3.9, 1.9, 1.9, 1.9} →
//    {3.9, 2.9, 2.4, 2.15} crosses 2.5 at step 280 = 4480 tokens: 10/7.
//  train/loss at steps 1..3: pre_norm {3, 2, 4} → EMA(0.05) {3, 2.95, 3.0025};
//    hc {3, 1, 3} → {3, 2.9, 2.905}.
//  loss spikes (run_summary): pre_norm {2, 0, 1}, hc {0, 0, 0};
//  grad-norm spikes: pre_norm from spike rows {1, 0, 0}, hc summary {0, 0, 0}.
//  piqa/acc at the last step: pre_norm {.60, .62, .64}, hc {.65, .66, .67};
//    hellaswag/acc_norm: hc only {.30, .32, .34}.
//  tokens/s: pre_norm {1000, 1100, 1200}, hc 800; params 1000 and 1100.
inline ReportInput known_input() {
  ReportInput in;
  in.sweep = "known";
  const double base_off[] = {0.0, 0.1, -0.1};
  const double hc_off[] = {-0.1, -0.02, -0.18};
  for (const std::string kind : {"pre_norm", "hc"}) {
    const bool hc = kind == "hc";
    for (int seed = 0; seed < 3; ++seed) {
      RunData r;
      r.id = std::string(hc ? "hc" : "pn") + "-seed" + std::to_string(seed);
      r.status = RunStatus::kCompleted;
      r.params = {{"seed", std::to_string(seed)}, {"residual.kind", kind},     {"residual.n", "2"},
                  {"train.batch_size", "2"},      {"model.seq_len", "8"},       {"train.grad_accum", "1"},
                  {"train.steps", "400"},         {"spikes.window", "50"},      {"spikes.sigma", "6"}};
      r.step = 400;
      r.tokens = 6400;
      r.param_count = hc ? 1100 : 1000;
      r.tokens_per_s = hc ? 800.0 : 1000.0 + 100.0 * seed;
      const double off = hc ? hc_off[seed] : base_off[seed];
      const std::vector<double> val = hc ? std::vector<double>{4, 2, 2, 2} : std::vector<double>{4, 3, 2.5, 2};
      for (int i = 0; i < 4; ++i) {
        r.curves["val/loss"].steps.push_back(100 * (i + 1));
        r.curves["val/loss"].values.push_back(val[i] + off);
      }
      r.curves["train/loss"] = {{1, 2, 3}, hc ? std::vector<double>{3, 1, 3} : std::vector<double>{3, 2, 4}};
      r.summary["spikes/train/loss/count"] = hc ? 0.0 : std::vector<double>{2, 0, 1}[seed];
      if (hc) r.summary["spikes/train/grad_norm/count"] = 0.0;
      if (!hc && seed == 0) {
        r.spikes.push_back({"train/grad_norm", 2, 9.5, 7.25});
        r.spikes.push_back({"train/loss", 3, 4.0, 6.5});
      }
      r.evals.push_back({200, "piqa", "acc", 0.5});
      r.evals.push_back({400, "piqa", "acc", hc ? 0.65 + 0.01 * seed : 0.60 + 0.02 * seed});
      r.evals.push_back({400, "piqa", "n", 100});
      if (hc) r.evals.push_back({400, "hellaswag", "acc_norm", 0.30 + 0.02 * seed});
      for (int k = 0; k < 4; ++k) {
        const double cos = hc ? 0.5 + 0.05 * k : 0.6 + 0.1 * k;
        r.layer_stats.push_back({400, k, "cos/median", cos});
        r.layer_stats.push_back({400, k, "cos/p5", cos - 0.1});
        r.layer_stats.push_back({400, k, "cos/p95", cos + 0.05});
        r.layer_stats.push_back({400, k, "grad_norm", (hc ? 0.5 : 0.1) * (k + 1) * (seed + 1)});
      }
      if (hc) {
        for (int k = 0; k < 4; ++k) {
          r.matrices.push_back({400, k, k % 2 ? "ffn" : "attn", "hc", 3, 3,
                                {0, 1, 1, k % 2 ? 0.0 : 1.0, 1, 0.1 * k, k % 2 ? 1.0 : 0.0, -0.2, 1}});
        }
        std::vector<double> unfolded(16, 0.0);
        for (int k = 0; k < 4; ++k) {
          for (int j = 0; j < k; ++j) unfolded[k * 4 + j] = 1.0 - 0.3 * (k - j - 1);
        }
        r.matrices.push_back({400, -1, "model", "unfolded", 4, 4, unfolded});
      }
      in.runs.push_back(std::move(r));
    }
  }
  return in;
}

// The known sweep with a seventh run still training: hc seed 3 (status
// running) at step 200, val/loss {4.2, 2.3} at steps 100, 200 and train/loss
// {3.5, 2.5} at steps 1, 2 (EMA(0.05) {3.5, 3.45}). Statistics stay those of
// known_input(); the HTML report draws its partial curves dashed.
inline ReportInput known_input_with_running() {
  ReportInput in = known_input();
  RunData r = in.runs.back();  // hc seed 2: same config but the seed
  r.id = "hc-seed3";
  r.status = RunStatus::kRunning;
  r.params["seed"] = "3";
  r.step = 200;
  r.tokens = 3200;
  r.curves.clear();
  r.curves["val/loss"] = {{100, 200}, {4.2, 2.3}};
  r.curves["train/loss"] = {{1, 2}, {3.5, 2.5}};
  r.summary.clear();
  r.spikes.clear();
  r.evals.clear();
  r.layer_stats.clear();
  r.matrices.clear();
  in.runs.push_back(std::move(r));
  return in;
}

// The known sweep as `hcx report --format table` prints it without colour.
inline const char* known_table() {
  return
      "hcx report · sweep known · 6 runs · seeds 0, 1, 2 · baseline residual.kind=pre_norm · metric val/loss\n"
      "\n"
      "Comparison\n"
      "group     seeds   val/loss final    val/loss best      Δ vs baseline [95% CI]     MDE  seeds for Δ  speed-up  train loss final  train loss best  loss spikes  gnorm spikes  tok/s  params\n"
      "Pre-Norm    3/3  2.0000 ± 0.1000  2.0000 ± 0.1000                    baseline       —            —     1.00×   3.0025 ± 0.0000  2.9500 ± 0.0000    1.0 ± 1.0     0.3 ± 0.6  1.10k   1.00k\n"
      "DHC×2       3/3  1.9000 ± 0.0800  1.9000 ± 0.0800  −0.1000 [−0.1497, −0.0503]  0.0619            3     1.43×   2.9050 ± 0.0000  2.9000 ± 0.0000    0.0 ± 0.0     0.0 ± 0.0    800   1.10k\n"
      "\n"
      "Downstream (last evaluation of each run)\n"
      "group     hellaswag/acc_norm       piqa/acc\n"
      "Pre-Norm                   —  0.620 ± 0.020\n"
      "DHC×2          0.320 ± 0.020  0.660 ± 0.010\n"
      "\n"
      "mean ± std over the completed runs of each group (sample std, n−1).\n"
      "Δ: mean over pairs (seed) of group − baseline final val/loss; 95% CI from Student's t with n−1 df; n.s. = the interval contains 0.\n"
      "MDE: the smallest |Δ| these n seeds detect (α=0.05 two-sided, power 0.8), (t_{0.975,n−1} + t_{0.8,n−1})·s/√n with s the std of the paired differences; seeds for Δ: the smallest n at which that formula reaches the observed |Δ| (> 10000: out of reach; n/a: s or Δ is 0).\n"
      "speed-up: tokens the baseline needed to reach its own final smoothed val/loss ÷ tokens this group needed (seed-mean curves, EMA α=0.5; tokens = step × train.batch_size × model.seq_len × train.grad_accum).\n"
      "train loss: EMA α=0.05 of the per-step loss, final = last smoothed value, best = its minimum; validation as recorded.\n"
      "spikes per run: > mean + 6σ of the previous 50 values (OLMo 2 spike rule).\n";
}

// Writes `in` as sweep `in.sweep` into a fresh database at `path` (the
// store's schema, then plain INSERTs, as the trainer's sink would leave it).
inline void write_db(const std::filesystem::path& path, const ReportInput& in) {
  std::filesystem::remove(path);
  store::Db db = store::open_db(path);
  SQLite::Database& sql = db.sql();
  SQLite::Transaction txn(sql);
  sql.exec("INSERT INTO sweeps (id, name, spec_json, created_at, hcx_version) VALUES (1, '" + in.sweep +
           "', '{}', '2026-01-01T00:00:00.000Z', 'test')");
  SQLite::Statement run(sql,
                        "INSERT INTO runs (id, config_json, status, step, tokens, params, tokens_per_s) "
                        "VALUES (?, '{}', ?, ?, ?, ?, ?)");
  SQLite::Statement link(sql, "INSERT INTO sweep_runs (sweep_id, run_id, position) VALUES (1, ?, ?)");
  SQLite::Statement param(sql, "INSERT INTO run_params (run_id, key, value) VALUES (?, ?, ?)");
  SQLite::Statement metric(sql, "INSERT INTO metrics (run_id, name, step, value) VALUES (?, ?, ?, ?)");
  SQLite::Statement spike(sql,
                          "INSERT INTO spikes (run_id, metric, step, value, mean, std, score) "
                          "VALUES (?, ?, ?, ?, 0, 1, ?)");
  SQLite::Statement eval(sql, "INSERT INTO evals (run_id, step, task, metric, value) VALUES (?, ?, ?, ?, ?)");
  SQLite::Statement stat(sql, "INSERT INTO layer_stats (run_id, step, layer, name, value) VALUES (?, ?, ?, ?, ?)");
  SQLite::Statement matrix(sql,
                           "INSERT INTO hc_matrices (run_id, step, layer, sublayer, name, rows, cols, values_json) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  SQLite::Statement summary(sql, "INSERT INTO run_summary (run_id, key, value) VALUES (?, ?, ?)");
  auto go = [](SQLite::Statement& st) {
    st.exec();
    st.reset();
  };
  int position = 0;
  for (const RunData& r : in.runs) {
    run.bind(1, r.id);
    run.bind(2, to_string(r.status));
    run.bind(3, static_cast<int64_t>(r.step));
    run.bind(4, static_cast<int64_t>(r.tokens));
    if (r.param_count) run.bind(5, static_cast<int64_t>(*r.param_count)); else run.bind(5);
    if (r.tokens_per_s) run.bind(6, *r.tokens_per_s); else run.bind(6);
    go(run);
    link.bind(1, r.id);
    link.bind(2, position++);
    go(link);
    for (const auto& [k, v] : r.params) {
      param.bind(1, r.id);
      param.bind(2, k);
      param.bind(3, v);
      go(param);
    }
    for (const auto& [name, c] : r.curves) {
      for (size_t i = 0; i < c.steps.size(); ++i) {
        metric.bind(1, r.id);
        metric.bind(2, name);
        metric.bind(3, static_cast<int64_t>(c.steps[i]));
        metric.bind(4, c.values[i]);
        go(metric);
      }
    }
    for (const auto& s : r.spikes) {
      spike.bind(1, r.id);
      spike.bind(2, s.metric);
      spike.bind(3, static_cast<int64_t>(s.step));
      spike.bind(4, s.value);
      spike.bind(5, s.score);
      go(spike);
    }
    for (const auto& e : r.evals) {
      eval.bind(1, r.id);
      eval.bind(2, static_cast<int64_t>(e.step));
      eval.bind(3, e.task);
      eval.bind(4, e.metric);
      eval.bind(5, e.value);
      go(eval);
    }
    for (const auto& s : r.layer_stats) {
      stat.bind(1, r.id);
      stat.bind(2, static_cast<int64_t>(s.step));
      stat.bind(3, static_cast<int64_t>(s.layer));
      stat.bind(4, s.name);
      stat.bind(5, s.value);
      go(stat);
    }
    for (const auto& m : r.matrices) {
      std::string json = "[";
      for (size_t i = 0; i < m.values.size(); ++i) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", m.values[i]);
        json += (i ? "," : "") + std::string(buf);
      }
      json += "]";
      matrix.bind(1, r.id);
      matrix.bind(2, static_cast<int64_t>(m.step));
      matrix.bind(3, static_cast<int64_t>(m.layer));
      matrix.bind(4, m.sublayer);
      matrix.bind(5, m.name);
      matrix.bind(6, static_cast<int64_t>(m.rows));
      matrix.bind(7, static_cast<int64_t>(m.cols));
      matrix.bind(8, json);
      go(matrix);
    }
    for (const auto& [k, v] : r.summary) {
      summary.bind(1, r.id);
      summary.bind(2, k);
      summary.bind(3, v);
      go(summary);
    }
  }
  txn.commit();
}

// Tests that read the known database: a fresh folder dir_ (a TempDir,
// removed after each test) holding it as db_path_ (dir_/hcx.db).
class KnownDbTest : public ::testing::Test {
 protected:
  void SetUp() override { write_db(db_path_, known_input()); }
  hcx::test::TempDir tmp_{"report"};
  std::filesystem::path dir_ = tmp_.path(), db_path_ = dir_ / "hcx.db";
};

}  // namespace hcx::report::fixture
