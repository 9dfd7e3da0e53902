// Training-throughput benchmark: tokens/s of hcx's trainer for Pre-Norm, DHC×4
// and mHC×4 against the same models in PyTorch (bench/reference_gpt.py), in
// float32 and bfloat16, with hcx's achieved FLOP/s against the GEMM peak
// measured in the same run; plus the share of training time spent writing
// metrics and taking measurements.
//
//   train_bench [--repeat 3] [--quick] [--dtypes float32,bfloat16] [--python python3]
//               [--reference bench/reference_gpt.py] [--no-pytorch] [--no-costs] [--unfused] [--json FILE]
//               --unfused adds hcx with HCX_FUSED=0 (fused.h's ops in their plain-ATen form)
//   train_bench gpu [--python python3] [--reference FILE] [--peak-tflops 989.4] [--steps 20] [--json FILE]
//               bf16 on cuda at d 768, 12 layers, seq 1024 (scripts/gpu_check.sh): tokens/s, MFU,
//               peak memory against hcx inspect's estimate, and PyTorch's tokens/s
//   train_bench zoo [--repeat 3] [--quick] [--dtypes float32,bfloat16] [--json FILE]
//               every residual variant (DHC×4, mHC×4, DFC×4, SFC×4, LAuReL-RW, LAuReL-RW+LR r4,
//               DenseFormer, MUDD) against Pre-Norm at the two shapes: tokens/s and step-time ratios
//   train_bench check DIR      export weights, a batch and 3 training steps for `reference_gpt.py check DIR/<variant>`
//   train_bench profile D L B T THREADS VARIANT STEPS     forward / backward / clip / AdamW times of one config
//   train_bench measure D L B T THREADS VARIANT WARMUP STEPS [DTYPE]   (child) tokens/s of one config
//   train_bench gemm-peak DTYPE THREADS                    (child) best at::mm GFLOP/s in DTYPE
//
// Every measurement runs in its own child process (this binary with `measure`
// or `gemm-peak`, or the reference script) with OMP_NUM_THREADS,
// OPENBLAS_NUM_THREADS and MKL_NUM_THREADS set to the config's threads:
// OpenBLAS sizes its pool when it loads. Per config, dtype and repeat the runs
// alternate hcx / PyTorch over Pre-Norm, DHC×4, mHC×4, and the impl order flips
// every repeat; the tables report medians. bfloat16 is autocast on the CPU in
// both (hcx: train.dtype; the reference: torch.autocast), the mixing, norms and
// loss in float32.
//
// hcx is timed on the real path: train::train_run with a MemorySink, from the
// train/loss of step `warmup` to that of step warmup+steps (optimizer steps,
// metric recording and log-interval flushes; no evaluation falls inside).
// Achieved FLOP/s = tokens/s × 3 × forward FLOPs per token (hcx inspect's
// count: matmul-like work only, attention at the full context), and its
// fraction of the GEMM peak: the best at::mm throughput in the same dtype and
// thread count, measured once per (dtype, threads) in each run of the driver.
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/types.h>  // before the torch/ headers below, which need at::Tensor declared

#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include "hcx/config/run_config.h"
#include "hcx/data/batch.h"
#include "hcx/data/dataset.h"
#include "hcx/data/tasks.h"
#include "hcx/metrics/sink.h"
#include "hcx/model/gpt.h"
#include "hcx/model/inspect.h"
#include "hcx/store/db.h"
#include "hcx/store/runs.h"
#include "hcx/store/sqlite_sink.h"
#include "hcx/train/cuda_memory.h"
#include "hcx/train/diagnostics.h"
#include "hcx/train/evaluate.h"
#include "hcx/train/optimizer.h"
#include "hcx/train/schedule.h"
#include "hcx/train/trainer.h"
#include "hcx/util/process.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// ---------------------------------------------------------------------------- configs

struct Shape {
  int64_t d_model, layers, batch, seq, threads;
  int64_t warmup, steps_pre_norm, steps_dhc;  // timed steps: >= ~5 s each on an idle core (mHC: steps_dhc)
};
// The two benchmark shapes (bench/README.md): d 128 on 1 thread, d 512 on 2.
// n_heads 4, vocab 256, SwiGLU, LayerNorm: run_config.h defaults.
const Shape kShapes[] = {{128, 4, 16, 128, 1, 5, 40, 20}, {512, 4, 8, 256, 2, 3, 6, 4}};
const char* const kVariants[] = {"pre_norm", "dhc"};  // dhc: residual.kind hc, n 4, dynamic, tanh (check)
const char* const kTimedVariants[] = {"pre_norm", "dhc", "mhc"};  // mhc: residual.kind mhc, n 4
const char* const kDtypes[] = {"float32", "bfloat16"};            // train.dtype; bfloat16: autocast

bool is_dtype(const std::string& d) {
  return std::find(std::begin(kDtypes), std::end(kDtypes), d) != std::end(kDtypes);
}

hcx::config::RunConfig make_config(int64_t d, int64_t layers, int64_t batch, int64_t seq, int64_t threads,
                                   const std::string& variant) {
  hcx::config::RunConfig cfg;
  cfg.model.d_model = d;
  cfg.model.n_layers = layers;
  cfg.model.seq_len = seq;
  cfg.train.batch_size = batch;
  cfg.train.threads = threads;
  // pre_norm | dhc | mhc (n 4); and the zoo: dfc | sfc (m 4), laurel | laurel_lr (rank 4), denseformer (1x1), mudd,
  // moe | dhc_moe (Pre-Norm and DHC×4 with the MoE FFN: 8 experts, top-2, the dense FFN's active FLOPs)
  const bool moe = variant == "moe" || variant == "dhc_moe";
  cfg.residual.kind = variant == "dhc" || variant == "dhc_moe" ? "hc"
                      : variant == "dfc" || variant == "sfc"   ? "frac"
                      : variant == "laurel_lr"                 ? "laurel"
                      : variant == "moe"                       ? "pre_norm"
                                                               : variant;
  if (moe) cfg.model.ffn = "moe";
  cfg.residual.n = 4;
  cfg.residual.dynamic = variant != "sfc";
  if (variant == "laurel_lr") cfg.residual.laurel_rank = 4;
  return cfg;
}

// ---------------------------------------------------------------------------- child: measure

// A MemorySink that notes when the train/loss of two steps arrives and stops
// the run after the second: the window holds exactly `steps` trainer iterations.
class StepClock : public hcx::metrics::MemorySink {
 public:
  StepClock(int64_t first, int64_t last) : first_(first), last_(last) {}
  void scalar(int64_t step, std::string_view name, double value) override {
    MemorySink::scalar(step, name, value);
    if (name != "train/loss") return;
    if (step == first_) start_ = Clock::now();
    if (step == last_) {
      seconds = seconds_since(start_);
      hcx::train::request_stop();  // skip the final evaluation: not part of the benchmark
    }
  }
  double seconds = 0;

 private:
  int64_t first_, last_;
  Clock::time_point start_;
};

Json measure(const hcx::config::RunConfig& base, int64_t warmup, int64_t steps) {
  hcx::config::RunConfig cfg = base;
  cfg.train.steps = warmup + steps + 1;  // the last step would record diagnostics: keep it outside the window
  cfg.eval.every = 0;                    // validation at the start (untimed) and never again
  cfg.eval.diagnostics_every = 0;
  hcx::train::RunOptions opts;
  opts.progress = "none";
  StepClock sink(warmup, warmup + steps);
  hcx::train::clear_stop();
  hcx::train::train_run(cfg, opts, sink);
  const double tokens = double(steps * cfg.train.batch_size * cfg.model.seq_len);
  return {{"impl", "hcx"}, {"dtype", cfg.train.dtype}, {"steps", steps}, {"seconds", sink.seconds},
          {"tokens_per_s", tokens / sink.seconds}, {"params", sink.summaries.at("params")},
          {"first_loss", sink.scalars["train/loss"].at(1)}};
}

// ---------------------------------------------------------------------------- child: GEMM peak

// The best at::mm throughput in `dtype` on `threads` threads, GFLOP/s = 2·M·N·K / s:
// square 1024 and 2048, and per benchmark config the FFN-like GEMMs of a step,
// (B·T × d) × (d × 4d) and (B·T × 4d) × (4d × d). B is stored (N, K) and used
// transposed, as nn::Linear's x W^T. Per shape one warm-up call, then calls
// until 1 s has passed (at least 1, at most 20); the best call counts.
Json gemm_peak(const std::string& dtype, int64_t threads) {
  at::set_num_threads(static_cast<int>(threads));
  const at::ScalarType type = dtype == "bfloat16" ? at::kBFloat16 : at::kFloat;
  std::vector<std::array<int64_t, 3>> shapes = {{1024, 1024, 1024}, {2048, 2048, 2048}};  // M, K, N
  for (const Shape& s : kShapes) {
    shapes.push_back({s.batch * s.seq, s.d_model, 4 * s.d_model});
    shapes.push_back({s.batch * s.seq, 4 * s.d_model, s.d_model});
  }
  Json runs = Json::array();
  double best = 0;
  for (const auto& [m, k, n] : shapes) {
    const at::Tensor a = at::randn({m, k}).to(type);  // (M, K)
    const at::Tensor w = at::randn({n, k}).to(type);  // (N, K)
    at::Tensor c = at::mm(a, w.t());                  // (M, N); warm-up: first touch, kernel choice
    double best_s = INFINITY;
    int calls = 0;
    const Clock::time_point start = Clock::now();
    while (calls < 1 || (calls < 20 && seconds_since(start) < 1.0)) {
      const Clock::time_point t = Clock::now();
      at::mm_out(c, a, w.t());
      best_s = std::min(best_s, seconds_since(t));
      ++calls;
    }
    const double gflops = 2.0 * double(m) * double(n) * double(k) / best_s / 1e9;
    best = std::max(best, gflops);
    runs.push_back({{"m", m}, {"k", k}, {"n", n}, {"calls", calls}, {"best_s", best_s}, {"gflops", gflops}});
  }
  return {{"dtype", dtype}, {"threads", threads}, {"gflops", best}, {"shapes", runs}};
}

// ---------------------------------------------------------------------------- child: costs

// Forwards to `inner` and adds up the time spent in it.
class TimedSink : public hcx::metrics::MetricSink {
 public:
  explicit TimedSink(hcx::metrics::MetricSink& inner) : inner_(inner) {}
  void scalar(int64_t s, std::string_view n, double v) override { timed([&] { inner_.scalar(s, n, v); }); }
  void spike(const hcx::metrics::SpikeRow& r) override { timed([&] { inner_.spike(r); }); }
  void eval(int64_t s, std::string_view t, std::string_view m, double v) override {
    timed([&] { inner_.eval(s, t, m, v); });
  }
  void layer_stat(int64_t s, int64_t l, std::string_view n, double v) override {
    timed([&] { inner_.layer_stat(s, l, n, v); });
  }
  void matrix(const hcx::metrics::MatrixRow& r) override { timed([&] { inner_.matrix(r); }); }
  void summary(std::string_view k, double v) override {
    summaries[std::string(k)] = v;
    timed([&] { inner_.summary(k, v); });
  }
  void progress(int64_t s, int64_t t) override { timed([&] { inner_.progress(s, t); }); }
  void resume_from(int64_t s) override { timed([&] { inner_.resume_from(s); }); }
  void flush() override {
    ++flushes;
    timed([&] { inner_.flush(); });
  }

  double seconds = 0;
  int64_t calls = 0, flushes = 0;
  std::map<std::string, double> summaries;

 private:
  template <class F>
  void timed(F&& f) {
    const Clock::time_point t = Clock::now();
    f();
    seconds += seconds_since(t);
    ++calls;
  }
  hcx::metrics::MetricSink& inner_;
};

// What one of each measurement costs on a fresh model of `cfg` (seconds): a
// validation pass (eval.batches batches, run every eval.every steps), the
// downstream tasks (at the end) and the probe diagnostics (at the end).
Json measurement_parts(const hcx::config::RunConfig& cfg) {
  const hcx::data::Dataset ds = hcx::data::open_dataset(cfg);
  const std::vector<hcx::data::Batch> val = hcx::data::val_batches(ds, ds.val);
  const std::vector<hcx::data::Task> tasks = hcx::data::load_tasks(cfg, ds.tokenizer);
  hcx::model::Gpt model = hcx::model::make_model(cfg);
  const at::Device cpu(at::kCPU);
  hcx::metrics::MemorySink sink;
  Clock::time_point t = Clock::now();
  hcx::train::validation_loss(*model, val, cpu);
  const double val_s = seconds_since(t);
  t = Clock::now();
  for (const auto& task : tasks) hcx::train::score_task(*model, task, cpu);
  const double tasks_s = seconds_since(t);
  t = Clock::now();
  hcx::train::record_probe_diagnostics(*model, val.front().x, cpu, 0, sink);
  return {{"validation_s", val_s}, {"tasks_s", tasks_s}, {"n_tasks", tasks.size()},
          {"diagnostics_s", seconds_since(t)}};
}

// A whole run with the config's default intervals (train.steps, log_every,
// eval.every, final diagnostics and tasks), writing to a fresh SQLite database
// in `dir` through a TimedSink.
Json costs(const hcx::config::RunConfig& cfg, const fs::path& dir) {
  fs::create_directories(dir);
  const fs::path db_path = dir / "train_bench.db";
  Json out;
  {
    hcx::store::Db db = hcx::store::open_db(db_path);
    hcx::store::upsert_run(db, "bench", cfg);
    hcx::store::SqliteSink store(db, "bench");
    TimedSink sink(store);
    hcx::train::RunOptions opts;
    opts.progress = "none";
    const Clock::time_point start = Clock::now();
    hcx::train::train_run(cfg, opts, sink);
    const double wall = seconds_since(start), train_s = sink.summaries.at("time/train_s");
    out = {{"steps", cfg.train.steps}, {"log_every", cfg.train.log_every}, {"eval_every", cfg.eval.every},
           {"wall_s", wall}, {"train_s", train_s}, {"measure_s", sink.summaries.at("time/measure_s")},
           {"measure_share", sink.summaries.at("time/measure_share")}, {"sink_s", sink.seconds},
           {"sink_calls", sink.calls}, {"flushes", sink.flushes}, {"sink_share", sink.seconds / train_s}};
  }
  fs::remove_all(dir);
  out["parts"] = measurement_parts(cfg);
  return out;
}

// ---------------------------------------------------------------------------- child: check and profile

Json write_tensor(const fs::path& dir, const std::string& file, const at::Tensor& t) {
  const at::Tensor c = t.detach().contiguous();
  std::ofstream(dir / file, std::ios::binary)
      .write(static_cast<const char*>(c.data_ptr()), static_cast<std::streamsize>(c.nbytes()));
  return {{"file", file}, {"shape", c.sizes().vec()}, {"dtype", c.scalar_type() == at::kLong ? "int64" : "float32"}};
}

// Perturbs the HC parameters away from their init (where DHC equals Pre-Norm),
// saves weights and a batch, trains 3 steps as the trainer does and saves the
// losses, gradient norms and final weights.
void export_check(const fs::path& dir, const std::string& variant) {
  fs::create_directories(dir);
  at::set_num_threads(1);
  hcx::config::RunConfig cfg = make_config(128, 4, 4, 128, 1, variant);
  cfg.train.warmup_steps = 0;  // full lr from the first step, so the updates are visible
  cfg.train.steps = 3;
  hcx::model::Gpt model = hcx::model::make_model(cfg);
  at::Generator gen = at::detail::createCPUGenerator(42);
  Json params = Json::array(), after = Json::array();
  int64_t n_params = 0;
  {
    const at::NoGradGuard no_grad;
    for (const auto& p : hcx::model::named_params(*model)) {
      if (hcx::model::is_hc_param(p.name)) {
        const double std = p.name.find("_fn") != std::string::npos ? 0.05 : 0.1;
        p.tensor.add_(at::randn(p.tensor.sizes(), gen) * std);
      }
      params.push_back(write_tensor(dir, "p" + std::to_string(params.size()) + ".bin", p.tensor));
      params.back()["name"] = p.name;
      n_params += p.tensor.numel();
    }
  }
  const at::Tensor x = at::randint(cfg.model.vocab_size, {4, 128}, gen, at::kLong);
  const at::Tensor y = at::randint(cfg.model.vocab_size, {4, 128}, gen, at::kLong);
  torch::optim::AdamW opt = hcx::train::make_optimizer(*model, cfg.train);
  std::vector<at::Tensor> trainable;
  for (const auto& p : hcx::model::named_params(*model))
    if (p.trainable) trainable.push_back(p.tensor);
  std::vector<double> losses, norms;
  for (int64_t s = 0; s < cfg.train.steps; ++s) {
    hcx::train::set_lr(opt, hcx::train::learning_rate(cfg.train, s));
    opt.zero_grad();
    const at::Tensor loss = model->loss(x, y);
    loss.backward();
    norms.push_back(torch::nn::utils::clip_grad_norm_(trainable, cfg.train.grad_clip));
    losses.push_back(loss.item<double>());
    opt.step();
  }
  for (const auto& p : hcx::model::named_params(*model)) {
    after.push_back(write_tensor(dir, "a" + std::to_string(after.size()) + ".bin", p.tensor));
    after.back()["name"] = p.name;
  }
  const auto& m = cfg.model;
  const Json spec = {
      {"config", {{"d_model", m.d_model}, {"n_layers", m.n_layers}, {"n_heads", m.n_heads}, {"seq_len", m.seq_len},
                  {"vocab_size", m.vocab_size}, {"variant", variant}, {"n", cfg.residual.n},
                  {"steps", cfg.train.steps}, {"warmup_steps", cfg.train.warmup_steps}}},
      {"params", params}, {"after", after}, {"n_params", n_params},
      {"x", write_tensor(dir, "x.bin", x)}, {"y", write_tensor(dir, "y.bin", y)},
      {"losses", losses}, {"grad_norms", norms}};
  std::ofstream(dir / "check.json") << spec.dump(1) << "\n";
}

// Seconds per phase of a training step, averaged over `steps` after 2 warm-up
// steps (own loop with the trainer's optimizer, on the trainer's kind of batch).
Json profile(const hcx::config::RunConfig& cfg, int64_t steps) {
  at::set_num_threads(static_cast<int>(cfg.train.threads));
  hcx::model::Gpt model = hcx::model::make_model(cfg);
  torch::optim::AdamW opt = hcx::train::make_optimizer(*model, cfg.train);
  std::vector<at::Tensor> trainable;
  for (const auto& p : hcx::model::named_params(*model)) trainable.push_back(p.tensor);
  const at::Tensor x = at::randint(cfg.model.vocab_size, {cfg.train.batch_size, cfg.model.seq_len}, at::kLong);
  const at::Tensor y = at::randint(cfg.model.vocab_size, {cfg.train.batch_size, cfg.model.seq_len}, at::kLong);
  double t_fwd = 0, t_bwd = 0, t_clip = 0, t_opt = 0;
  for (int64_t s = 0; s < steps + 2; ++s) {
    const bool timed = s >= 2;
    Clock::time_point t = Clock::now();
    opt.zero_grad();
    const at::Tensor loss = model->loss(x, y);
    if (timed) t_fwd += seconds_since(t);
    t = Clock::now();
    loss.backward();
    if (timed) t_bwd += seconds_since(t);
    t = Clock::now();
    torch::nn::utils::clip_grad_norm_(trainable, 1.0);
    loss.item<double>();
    if (timed) t_clip += seconds_since(t);
    t = Clock::now();
    opt.step();
    if (timed) t_opt += seconds_since(t);
  }
  const double n = double(steps);
  return {{"forward_s", t_fwd / n}, {"backward_s", t_bwd / n}, {"clip_s", t_clip / n}, {"adamw_s", t_opt / n}};
}

// ---------------------------------------------------------------------------- driver

struct Options {
  int repeat = 3;
  bool quick = false, pytorch = true, costs = true, unfused = false;
  std::vector<std::string> dtypes = {std::begin(kDtypes), std::end(kDtypes)};
  std::string python = "python3", reference = "bench/reference_gpt.py", json;
};

// The shell prefix of a child on `t` threads: the environment hcx's sweeps give
// a run (util/process.h: thread counts, OpenMP spin count), for hcx and the
// PyTorch reference alike.
std::string thread_env(int64_t t) {
  std::string prefix;
  for (const auto& [name, value] : hcx::util::training_env(static_cast<int>(t))) prefix += name + "=" + value + " ";
  return prefix;
}

// Runs `cmd` through the shell and returns the last line of its stdout that parses as JSON.
Json run_child(const std::string& cmd) {
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot start: " + cmd);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int rc = pclose(pipe);
  std::string last;  // the last line that opens a JSON object
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line[0] == '{') last = line;
  if (rc != 0 || last.empty()) throw std::runtime_error("failed (status " + std::to_string(rc) + "): " + cmd);
  return Json::parse(last);
}

// `reference_gpt.py time` for one config; `extra`: further flags (threads, device, dtype, heads).
std::string reference_cmd(const std::string& python, const std::string& reference, int64_t d, int64_t layers,
                          int64_t batch, int64_t seq, const std::string& variant, int64_t warmup, int64_t steps,
                          const std::string& extra) {
  return python + " '" + reference + "' time --d-model " + std::to_string(d) + " --layers " + std::to_string(layers) +
         " --batch " + std::to_string(batch) + " --seq " + std::to_string(seq) + " --variant " + variant +
         " --warmup " + std::to_string(warmup) + " --steps " + std::to_string(steps) + extra;
}

std::string shape_args(const Shape& s) {
  return std::to_string(s.d_model) + " " + std::to_string(s.layers) + " " + std::to_string(s.batch) + " " +
         std::to_string(s.seq) + " " + std::to_string(s.threads);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t k = v.size() / 2;
  return v.size() % 2 ? v[k] : 0.5 * (v[k - 1] + v[k]);
}

double load_average() {
  double load = -1;
  std::ifstream("/proc/loadavg") >> load;
  return load;
}

const char* variant_label(const std::string& v) { return v == "pre_norm" ? "Pre-Norm" : v == "dhc" ? "DHCx4" : "mHCx4"; }

// printf("%*.*f") of `v`, or "-" when it is NaN (not measured).
std::string num(double v, int width, int precision, const char* suffix = "") {
  char buf[64];
  if (std::isnan(v)) std::snprintf(buf, sizeof buf, "%*s", width, "-");
  else std::snprintf(buf, sizeof buf, "%*.*f%s", width - int(std::strlen(suffix)), precision, v, suffix);
  return buf;
}

// The number at j[key] (or j[key][sub]), NaN if missing: reads const objects safely.
double at_or_nan(const Json& j, const std::string& key, const std::string& sub = "") {
  if (!j.is_object() || !j.contains(key)) return NAN;
  if (!sub.empty()) return at_or_nan(j[key], sub);
  return j[key].is_number() ? j[key].get<double>() : NAN;
}

// Medians over the repeats of one (shape, dtype) and what follows from them:
// hcx/PyTorch, fused/plain, step-time ratios to Pre-Norm, achieved GFLOP/s
// and their fraction of `peak`.
Json config_entry(const Shape& s, const std::string& dtype, const std::map<std::string, std::vector<double>>& tps,
                  const Json& params, double peak) {
  Json c = {{"d_model", s.d_model}, {"layers", s.layers}, {"batch", s.batch}, {"seq", s.seq},
            {"threads", s.threads}, {"dtype", dtype}, {"params", params}, {"gemm_peak_gflops", peak}};
  for (const auto& [key, v] : tps) c["tokens_per_s"][key] = median(v), c["runs"][key] = v;
  const Json& med = c["tokens_per_s"];
  for (const std::string v : kTimedVariants) {
    // The FLOP count does not depend on the dtype: inspect counts operations.
    const double flops = hcx::model::compute_stats(make_config(s.d_model, s.layers, s.batch, s.seq, s.threads, v))
                             .flops_per_token;
    c["flops_per_token"][v] = flops;
    for (const std::string impl : {"hcx", "hcx_plain", "pytorch"}) {
      const double t = at_or_nan(med, impl + "/" + v);
      if (std::isnan(t)) continue;
      const double achieved = t * 3.0 * flops / 1e9;  // forward + backward ≈ 3 forwards
      c["achieved_gflops"][impl + "/" + v] = achieved;
      c["peak_fraction"][impl + "/" + v] = achieved / peak;
    }
    const double h = at_or_nan(med, "hcx/" + v), p = at_or_nan(med, "pytorch/" + v);
    const double plain = at_or_nan(med, "hcx_plain/" + v);
    if (!std::isnan(p)) c["hcx_over_pytorch"][v] = h / p;
    if (!std::isnan(plain)) c["fused_over_plain"][v] = h / plain;
    if (v == "pre_norm") continue;
    for (const std::string impl : {"hcx", "pytorch"}) {  // step-time ratios: Pre-Norm tokens/s over the variant's
      const double pre = at_or_nan(med, impl + "/pre_norm"), var = at_or_nan(med, impl + "/" + v);
      if (!std::isnan(pre) && !std::isnan(var)) c[v + "_step_time_over_pre_norm"][impl] = pre / var;
    }
  }
  return c;
}

// The one table of the run: GEMM peaks, then a row per config, dtype and variant.
void print_summary(const Json& report, const Options& o) {
  std::printf("\nGEMM peak (at::mm, best of square 1024, 2048 and the configs' FFN shapes), GFLOP/s:\n");
  for (const auto& [dtype, by_threads] : report["gemm_peak_gflops"].items())
    for (const auto& [threads, g] : by_threads.items())
      std::printf("  %-9s %s thread(s) %9.1f\n", dtype.c_str(), threads.c_str(), g.get<double>());
  std::printf("\ntraining tokens/s, median of %d; step/Pre: the variant's step time over Pre-Norm's; "
              "GFLOP/s = tokens/s x 3 x hcx inspect's forward FLOPs/token; %% peak: of the GEMM peak above\n",
              o.repeat);
  std::printf("%-18s %-9s %-9s %10s %10s %8s %9s %9s %9s %7s%s\n", "config", "dtype", "variant", "hcx tok/s",
              "PyT tok/s", "hcx/PyT", "step/Pre", "PyT step", "hcx GF/s", "% peak", o.unfused ? "  fused/plain" : "");
  for (const Json& c : report["configs"]) {
    char config[64];
    std::snprintf(config, sizeof config, "d %lld, %lld thread%s", (long long)c["d_model"].get<int64_t>(),
                  (long long)c["threads"].get<int64_t>(), c["threads"].get<int64_t>() == 1 ? "" : "s");
    for (const std::string v : kTimedVariants) {
      const Json& t = c["tokens_per_s"];
      const double h = at_or_nan(t, "hcx/" + v), p = at_or_nan(t, "pytorch/" + v);
      const double step = v == "pre_norm" ? 1.0 : at_or_nan(c, v + "_step_time_over_pre_norm", "hcx");
      const double pstep = v == "pre_norm" ? (std::isnan(p) ? NAN : 1.0)
                                           : at_or_nan(c, v + "_step_time_over_pre_norm", "pytorch");
      const bool same = std::isnan(p) || c["params"].value("hcx/" + v, Json()) == c["params"].value("pytorch/" + v, Json());
      std::printf("%-18s %-9s %-9s %s %s %s %s %s %s %s%s%s\n", config, c["dtype"].get<std::string>().c_str(),
                  variant_label(v), num(h, 10, 0).c_str(), num(p, 10, 0).c_str(), num(h / p, 8, 2, "x").c_str(),
                  num(step, 9, 2).c_str(), num(pstep, 9, 2).c_str(),
                  num(at_or_nan(c, "achieved_gflops", "hcx/" + v), 9, 1).c_str(),
                  num(100 * at_or_nan(c, "peak_fraction", "hcx/" + v), 7, 1, "%").c_str(),
                  o.unfused ? num(at_or_nan(c, "fused_over_plain", v), 13, 2, "x").c_str() : "",
                  same ? "" : "  PARAMETER COUNTS DIFFER");
    }
  }
  std::fflush(stdout);
}

int drive(const Options& o) {
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  Json report = {{"repeat", o.repeat}, {"dtypes", o.dtypes}, {"configs", Json::array()},
                 {"gemm_peak_gflops", Json::object()}, {"gemm_peaks", Json::array()}};
  std::printf("load average at start: %.2f (%u cores)\n", load_average(), std::thread::hardware_concurrency());
  for (const Shape& s : kShapes) {
    for (const std::string& dtype : o.dtypes) {
      const std::string threads = std::to_string(s.threads);
      Json& peaks = report["gemm_peak_gflops"];
      if (!peaks.contains(dtype) || !peaks[dtype].contains(threads)) {  // once per (dtype, threads) and run
        const Json g = run_child(thread_env(s.threads) + "'" + self + "' gemm-peak " + dtype + " " + threads);
        peaks[dtype][threads] = g.at("gflops");
        report["gemm_peaks"].push_back(g);
        std::printf("  GEMM peak %-8s %s thread(s) %9.1f GFLOP/s  (load %.2f)\n", dtype.c_str(), threads.c_str(),
                    g.at("gflops").get<double>(), load_average());
        std::fflush(stdout);
      }
      const double peak = peaks[dtype][threads].get<double>();
      std::map<std::string, std::vector<double>> tps;  // "hcx/pre_norm" -> tokens/s per repeat
      Json params;
      for (int r = 0; r < o.repeat; ++r) {
        std::vector<std::string> impls = {"hcx", "pytorch"};
        if (!o.pytorch) impls.pop_back();
        if (o.unfused) impls.insert(impls.begin() + 1, "hcx_plain");  // HCX_FUSED=0: reference forms of fused.h
        if (r % 2 == 1) std::reverse(impls.begin(), impls.end());
        for (const char* variant : kTimedVariants) {
          int64_t steps = std::string(variant) == "pre_norm" ? s.steps_pre_norm : s.steps_dhc;
          if (o.quick) steps = std::max<int64_t>(2, steps / 4);
          for (const auto& impl : impls) {
            const std::string cmd =
                impl != "pytorch"
                    ? std::string(impl == "hcx_plain" ? "HCX_FUSED=0 " : "") + thread_env(s.threads) + "'" + self +
                          "' measure " + shape_args(s) + " " + variant + " " + std::to_string(s.warmup) + " " +
                          std::to_string(steps) + " " + dtype
                    : thread_env(s.threads) +
                          reference_cmd(o.python, o.reference, s.d_model, s.layers, s.batch, s.seq, variant,
                                        s.warmup, steps, " --threads " + threads + " --dtype " + dtype);
            const Json j = run_child(cmd);
            const std::string key = impl + "/" + variant;
            tps[key].push_back(j.at("tokens_per_s").get<double>());
            params[key] = j.at("params");
            std::printf("  d=%-4lld %-8s rep %d  %-17s %9.0f tokens/s  (%lld steps, %.1f s, load %.2f)\n",
                        (long long)s.d_model, dtype.c_str(), r + 1, key.c_str(), tps[key].back(), (long long)steps,
                        j.at("seconds").get<double>(), load_average());
            std::fflush(stdout);
          }
        }
      }
      report["configs"].push_back(config_entry(s, dtype, tps, params, peak));
    }
  }
  if (o.costs) {
    std::printf("\ncost of metric writing (SQLite, log_every 10) and of measurements, default intervals "
                "(train.steps 200, eval.every 50, tasks and diagnostics at the end), 1 thread, float32:\n");
    const std::vector<std::pair<std::string, std::string>> runs = {
        {"d=128 pre_norm", shape_args(kShapes[0]) + " pre_norm"},
        {"d=128 dhc", shape_args(kShapes[0]) + " dhc"},
        {"defaults {}", "defaults"}};
    for (const auto& [name, args] : runs) {
      const Json j = run_child(thread_env(1) + "'" + self + "' costs " + args);
      const Json& p = j["parts"];
      std::printf("  %-15s metric writing %.3f%% of train time (%.3f s, %lld sink calls, %lld flushes); "
                  "measurements %.1f%% (%.1f s of %.1f s; one validation %.2f s, tasks %.2f s, diagnostics %.2f s)\n",
                  name.c_str(), 100 * j["sink_share"].get<double>(), j["sink_s"].get<double>(),
                  (long long)j["sink_calls"].get<int64_t>(), (long long)j["flushes"].get<int64_t>(),
                  100 * j["measure_share"].get<double>(), j["measure_s"].get<double>(),
                  j["train_s"].get<double>() + j["measure_s"].get<double>(), p["validation_s"].get<double>(),
                  p["tasks_s"].get<double>(), p["diagnostics_s"].get<double>());
      std::fflush(stdout);
      report["costs"][name] = j;
    }
  }
  print_summary(report, o);
  std::printf("load average at end: %.2f\n", load_average());
  report["load_end"] = load_average();
  if (!o.json.empty()) std::ofstream(o.json) << report.dump(1) << "\n";
  return 0;
}

// ---------------------------------------------------------------------------- the residual-variant zoo

// Every residual variant against Pre-Norm at the benchmark shapes, hcx only:
// per shape, dtype and repeat the variants run in turn (the order reversed
// every other repeat), each in its own child; the table gives median tokens/s
// and the step-time ratio to Pre-Norm of the same run.
const char* const kZooVariants[] = {"pre_norm",  "dhc",         "mhc",  "dfc", "sfc",    "laurel",
                                    "laurel_lr", "denseformer", "mudd", "moe", "dhc_moe"};

const char* zoo_label(const std::string& v) {
  if (v == "pre_norm") return "Pre-Norm";
  if (v == "dhc") return "DHC×4";
  if (v == "mhc") return "mHC×4";
  if (v == "dfc") return "DFC×4";
  if (v == "sfc") return "SFC×4";
  if (v == "laurel") return "LAuReL-RW";
  if (v == "laurel_lr") return "LAuReL-RW+LR r4";
  if (v == "mudd") return "MUDD";
  if (v == "moe") return "Pre-Norm MoE 8×2";
  if (v == "dhc_moe") return "DHC×4 MoE 8×2";
  return "DenseFormer";
}

int drive_zoo(const Options& o) {
  const std::string self = fs::canonical("/proc/self/exe").string();
  std::printf("residual-variant zoo: hcx tokens/s, median of %d; load at start %.2f\n", o.repeat, load_average());
  Json report = {{"repeat", o.repeat}, {"load_start", load_average()}, {"configs", Json::array()}};
  std::vector<std::string> lines;
  for (const Shape& s : kShapes) {
    for (const std::string& dtype : o.dtypes) {
      std::map<std::string, std::vector<double>> tps;
      for (int r = 0; r < o.repeat; ++r) {
        std::vector<std::string> order(std::begin(kZooVariants), std::end(kZooVariants));
        if (r % 2 == 1) std::reverse(order.begin(), order.end());
        for (const auto& v : order) {
          int64_t steps = v == "pre_norm" ? s.steps_pre_norm : s.steps_dhc;
          if (o.quick) steps = std::max<int64_t>(2, steps / 4);
          const Json j = run_child(thread_env(s.threads) + "'" + self + "' measure " + shape_args(s) + " " + v + " " +
                                   std::to_string(s.warmup) + " " + std::to_string(steps) + " " + dtype);
          tps[v].push_back(j.at("tokens_per_s").get<double>());
          std::printf("  d=%-4lld %-8s rep %d  %-16s %9.0f tokens/s  (load %.2f)\n", (long long)s.d_model,
                      dtype.c_str(), r + 1, zoo_label(v), tps[v].back(), load_average());
          std::fflush(stdout);
        }
      }
      Json entry = {{"d_model", s.d_model}, {"threads", s.threads}, {"dtype", dtype}, {"variants", Json::object()}};
      const double pre = median(tps["pre_norm"]);
      for (const char* v : kZooVariants) {
        const double t = median(tps[v]);
        entry["variants"][v] = {{"tokens_per_s", t}, {"step_over_pre_norm", pre / t}};
        char line[160];
        std::snprintf(line, sizeof line, "d=%-4lld %lld thr  %-8s %-16s %10.0f %9.2f", (long long)s.d_model,
                      (long long)s.threads, dtype.c_str(), zoo_label(v), t, pre / t);
        lines.push_back(line);
      }
      report["configs"].push_back(entry);
    }
  }
  std::printf("\n%-29s %-16s %10s %9s\n", "config", "variant", "tok/s", "step/Pre");
  for (const auto& l : lines) std::printf("%s\n", l.c_str());
  std::printf("load average at end: %.2f\n", load_average());
  report["load_end"] = load_average();
  if (!o.json.empty()) std::ofstream(o.json) << report.dump(1) << "\n";
  return 0;
}

// ---------------------------------------------------------------------------- GPU: bf16 at GPT-2 small size

// The GPU check's shape (d 768, 12 layers, seq 1024, bf16); batch 8 gives 8,192 tokens a step.
struct GpuShape {
  int64_t d_model = 768, layers = 12, heads = 12, seq = 1024, batch = 8, warmup = 5;
};

hcx::config::RunConfig gpu_config(const GpuShape& g, const std::string& variant) {
  hcx::config::RunConfig cfg = make_config(g.d_model, g.layers, g.batch, g.seq, 1, variant);
  cfg.model.n_heads = g.heads;
  cfg.train.device = "cuda";
  cfg.train.dtype = "bfloat16";
  return cfg;
}

// Child: one variant on cuda, bf16; tokens/s as measure(), plus the peak CUDA
// memory and hcx inspect's figures for the same config.
Json measure_gpu(const std::string& variant, int64_t steps) {
  const GpuShape g;
  const hcx::config::RunConfig cfg = gpu_config(g, variant);
  Json j = measure(cfg, g.warmup, steps);
  const hcx::model::ModelStats st = hcx::model::compute_stats(cfg);
  const double tokens_per_step = double(g.batch * g.seq);
  j["peak_cuda_bytes"] = hcx::train::cuda_peak_allocated_bytes(0);
  // The estimate: activations (inspect's per-token figure) plus float32
  // weights, gradients and AdamW's two moments (16 bytes a parameter).
  j["estimated_bytes"] = st.activation_bytes_per_token * tokens_per_step + 16.0 * double(st.params_total);
  j["train_flops_per_token"] = 3.0 * st.flops_per_token;  // forward + backward (2x forward)
  return j;
}

struct GpuOptions {
  std::string python = "python3", reference = "bench/reference_gpt.py", json;
  double peak_tflops = 989.4;  // H100/H200 SXM dense bf16 tensor-core peak
  int64_t steps = 20;
};

int drive_gpu(const GpuOptions& o) {
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const GpuShape g;
  Json report = {{"d_model", g.d_model}, {"layers", g.layers}, {"heads", g.heads}, {"seq", g.seq},
                 {"batch", g.batch}, {"steps", o.steps}, {"peak_tflops", o.peak_tflops}, {"variants", Json::object()}};
  std::printf("bf16 on cuda: d_model %lld, %lld layers, %lld heads, seq %lld, batch %lld; %lld timed steps after %lld\n",
              (long long)g.d_model, (long long)g.layers, (long long)g.heads, (long long)g.seq, (long long)g.batch,
              (long long)o.steps, (long long)g.warmup);
  std::printf("MFU = tokens/s x 3 x forward FLOPs/token (hcx inspect: matmuls, full-context attention) / %.1f TFLOP/s\n",
              o.peak_tflops);
  std::printf("  %-9s %10s %10s %9s %6s %11s %11s %10s\n", "variant", "hcx tok/s", "PyTorch", "hcx/PyT", "MFU",
              "peak GiB", "estim. GiB", "PyT GiB");
  const double gib = 1024.0 * 1024.0 * 1024.0;
  for (const char* variant : kTimedVariants) {
    const Json h = run_child("'" + self + "' measure-gpu " + variant + " " + std::to_string(o.steps));
    Json p;
    try {
      p = run_child(reference_cmd(o.python, o.reference, g.d_model, g.layers, g.batch, g.seq, variant, g.warmup,
                                  o.steps, " --device cuda --dtype bfloat16 --heads " + std::to_string(g.heads)));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "  PyTorch %s: %s\n", variant, e.what());
    }
    const double tps = h.at("tokens_per_s").get<double>();
    const double mfu = tps * h.at("train_flops_per_token").get<double>() / (o.peak_tflops * 1e12);
    const double ptps = p.is_null() ? NAN : p.at("tokens_per_s").get<double>();
    const double pmem = p.is_null() || p["peak_cuda_bytes"].is_null() ? NAN : p["peak_cuda_bytes"].get<double>();
    std::printf("  %-9s %10.0f %10.0f %8.2fx %5.1f%% %11.2f %11.2f %10.2f\n", variant, tps, ptps, tps / ptps,
                100 * mfu, h.at("peak_cuda_bytes").get<double>() / gib, h.at("estimated_bytes").get<double>() / gib,
                pmem / gib);
    std::fflush(stdout);
    report["variants"][variant] = {{"hcx", h}, {"pytorch", p}, {"mfu", mfu}, {"hcx_over_pytorch", tps / ptps}};
  }
  if (!o.json.empty()) std::ofstream(o.json) << report.dump(1) << "\n";
  return 0;
}

hcx::config::RunConfig config_from_args(char** argv) {  // D L B T THREADS VARIANT
  return make_config(std::stoll(argv[0]), std::stoll(argv[1]), std::stoll(argv[2]), std::stoll(argv[3]),
                     std::stoll(argv[4]), argv[5]);
}

int usage() {
  std::fprintf(
      stderr,
      "usage: train_bench [--repeat N] [--quick] [--dtypes float32,bfloat16] [--python PY] [--reference FILE]\n"
      "                   [--no-pytorch] [--no-costs] [--unfused] [--json FILE]\n"
      "       train_bench zoo [--repeat N] [--quick] [--dtypes float32,bfloat16] [--json FILE]\n"
      "       train_bench check DIR\n"
      "       train_bench profile D L B T THREADS VARIANT STEPS\n"
      "       train_bench measure D L B T THREADS VARIANT WARMUP STEPS [float32|bfloat16]\n"
      "       train_bench gemm-peak float32|bfloat16 THREADS\n"
      "       train_bench gpu [--python PY] [--reference FILE] [--peak-tflops T] [--steps N] [--json FILE]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // The trainer's info lines would drown the tables, and its "interrupted" warning is the benchmark's own stop.
  spdlog::set_level(spdlog::level::err);
  try {
    const std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "measure" && (argc == 10 || argc == 11)) {  // measure D L B T THREADS VARIANT WARMUP STEPS [DTYPE]
      hcx::config::RunConfig cfg = config_from_args(argv + 2);
      if (argc == 11) cfg.train.dtype = argv[10];
      if (!is_dtype(cfg.train.dtype)) return usage();
      std::cout << measure(cfg, std::stoll(argv[8]), std::stoll(argv[9])).dump() << "\n";
      return 0;
    }
    if (cmd == "gemm-peak" && argc == 4) {  // gemm-peak DTYPE THREADS
      if (!is_dtype(argv[2])) return usage();
      std::cout << gemm_peak(argv[2], std::stoll(argv[3])).dump() << "\n";
      return 0;
    }
    if (cmd == "costs" && (argc == 8 || argc == 3)) {  // costs D L B T THREADS VARIANT | costs defaults
      const fs::path dir = fs::temp_directory_path() / ("hcx_train_bench_" + std::to_string(getpid()));
      const hcx::config::RunConfig cfg = argc == 8 ? config_from_args(argv + 2) : hcx::config::RunConfig{};
      std::cout << costs(cfg, dir).dump() << "\n";
      return 0;
    }
    if (cmd == "profile" && argc == 9) {
      std::cout << profile(config_from_args(argv + 2), std::stoll(argv[8])).dump() << "\n";
      return 0;
    }
    if (cmd == "measure-gpu" && argc == 4) {  // measure-gpu VARIANT STEPS
      std::cout << measure_gpu(argv[2], std::stoll(argv[3])).dump() << "\n";
      return 0;
    }
    if (cmd == "gpu") {
      GpuOptions g;
      for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        const bool has_value = i + 1 < argc;
        if (a == "--python" && has_value) g.python = argv[++i];
        else if (a == "--reference" && has_value) g.reference = argv[++i];
        else if (a == "--json" && has_value) g.json = argv[++i];
        else if (a == "--peak-tflops" && has_value) g.peak_tflops = std::stod(argv[++i]);
        else if (a == "--steps" && has_value) g.steps = std::max<int64_t>(2, std::stoll(argv[++i]));
        else return usage();
      }
      return drive_gpu(g);
    }
    if (cmd == "check" && argc == 3) {
      for (const char* variant : kVariants) export_check(fs::path(argv[2]) / variant, variant);
      return 0;
    }
    const bool zoo = cmd == "zoo";
    Options o;
    for (int i = zoo ? 2 : 1; i < argc; ++i) {
      const std::string a = argv[i];
      const bool has_value = i + 1 < argc;
      if (a == "--repeat" && has_value) o.repeat = std::max(1, std::stoi(argv[++i]));
      else if (a == "--quick") o.quick = true;
      else if (a == "--no-pytorch") o.pytorch = false;
      else if (a == "--no-costs") o.costs = false;
      else if (a == "--unfused") o.unfused = true;
      else if (a == "--dtypes" && has_value) {
        o.dtypes.clear();
        std::istringstream list(argv[++i]);
        for (std::string d; std::getline(list, d, ',');) {
          if (!is_dtype(d)) return usage();
          o.dtypes.push_back(d);
        }
        if (o.dtypes.empty()) return usage();
      }
      else if (a == "--python" && has_value) o.python = argv[++i];
      else if (a == "--reference" && has_value) o.reference = argv[++i];
      else if (a == "--json" && has_value) o.json = argv[++i];
      else return usage();
    }
    return zoo ? drive_zoo(o) : drive(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_bench: %s\n", e.what());
    return 1;
  }
}
