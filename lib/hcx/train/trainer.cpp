// The training loop of one run (docs/architecture.md, "Data flow"): data -> model ->
// AdamW steps -> metrics, spikes, evals and diagnostics through a MetricSink,
// with checkpoints that make a resumed CPU run reproduce the uninterrupted
// one value for value. See trainer.h for the contract.
#include "hcx/train/trainer.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <optional>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>
#include <torch/cuda.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include "hcx/data/batch.h"
#include "hcx/data/dataset.h"
#include "hcx/data/tasks.h"
#include "hcx/error.h"
#include "hcx/metrics/spike_detector.h"
#include "hcx/model/gpt.h"
#include "hcx/train/autocast.h"
#include "hcx/train/checkpoint.h"
#include "hcx/train/cuda_memory.h"
#include "hcx/train/diagnostics.h"
#include "hcx/train/evaluate.h"
#include "hcx/train/memory_estimate.h"
#include "hcx/train/optimizer.h"
#include "hcx/train/progress.h"
#include "hcx/train/schedule.h"
#include "hcx/train/torch_error.h"

namespace hcx::train {
namespace {

std::atomic<bool> g_stop{false};  // lock-free, so setting it from a signal handler is safe
std::atomic<bool> g_started{false};  // training_started()
static_assert(std::atomic<bool>::is_always_lock_free);

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

at::Device parse_device(const std::string& spec) {
  const at::Device device(spec);
  if (device.is_cuda() && !torch::cuda::is_available())
    throw bad_input("train.device: \"" + spec + "\" asked for, but this machine or LibTorch build has no CUDA device");
  if (device.is_cuda() && device.has_index() && device.index() >= static_cast<int>(torch::cuda::device_count()))
    throw bad_input("train.device: \"" + spec + "\" asked for, but only " + std::to_string(torch::cuda::device_count()) +
                    " CUDA device(s) are visible");
  return device;
}

// Peak resident memory of this process (VmHWM), in bytes; 0 when unknown.
double peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmHWM:") {
      double kib = 0;
      in >> kib;
      return kib * 1024.0;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

// The trainer's own figures, carried through checkpoints (TrainState::extra).
struct Figures {
  double best_val_loss = std::numeric_limits<double>::infinity();
  int64_t best_val_step = -1;
  double last_val_loss = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> recent_losses;  // train losses of the current log interval
  double last_interval_loss = std::numeric_limits<double>::quiet_NaN();
  double train_seconds = 0;    // optimizer steps only
  double measure_seconds = 0;  // evaluations and diagnostics
  metrics::SpikeDetector::State loss_spikes, grad_spikes;

  nlohmann::json to_json() const {
    auto det = [](const metrics::SpikeDetector::State& s) {
      return nlohmann::json{{"recent", s.recent}, {"observed", s.observed}, {"spikes", s.spikes}};
    };
    return {{"best_val_loss", best_val_loss}, {"best_val_step", best_val_step}, {"last_val_loss", last_val_loss},
            {"recent_losses", recent_losses}, {"last_interval_loss", last_interval_loss},
            {"train_seconds", train_seconds}, {"measure_seconds", measure_seconds},
            {"loss_spikes", det(loss_spikes)}, {"grad_spikes", det(grad_spikes)}};
  }
  static Figures from_json(const nlohmann::json& j) {
    Figures f;
    auto num = [&](const char* key, double fallback) {
      return j.contains(key) && j[key].is_number() ? j[key].get<double>() : fallback;  // JSON has no NaN/inf: null
    };
    auto det = [](const nlohmann::json& d) {
      metrics::SpikeDetector::State s;
      s.recent = d.at("recent").get<std::vector<double>>();
      s.observed = d.at("observed").get<int64_t>();
      s.spikes = d.at("spikes").get<int64_t>();
      return s;
    };
    f.best_val_loss = num("best_val_loss", std::numeric_limits<double>::infinity());
    f.best_val_step = j.value("best_val_step", int64_t{-1});
    f.last_val_loss = num("last_val_loss", std::numeric_limits<double>::quiet_NaN());
    f.recent_losses = j.value("recent_losses", std::vector<double>{});
    f.last_interval_loss = num("last_interval_loss", std::numeric_limits<double>::quiet_NaN());
    f.train_seconds = num("train_seconds", 0);
    f.measure_seconds = num("measure_seconds", 0);
    if (j.contains("loss_spikes")) f.loss_spikes = det(j["loss_spikes"]);
    if (j.contains("grad_spikes")) f.grad_spikes = det(j["grad_spikes"]);
    return f;
  }
};

class Trainer {
 public:
  Trainer(const config::RunConfig& cfg, const RunOptions& opts, MetricSink& sink)
      : cfg_(cfg), opts_(opts), sink_(sink), device_(parse_device(cfg.train.device)),
        ds_(data::open_dataset(cfg, data::DataOptions{opts.cache_dir.string()})), tasks_(data::load_tasks(cfg, ds_.tokenizer)),
        model_(model::make_model(cfg)), opt_(make_optimizer(*model_, cfg.train)),
        loss_det_(cfg.spikes.window, cfg.spikes.sigma), grad_det_(cfg.spikes.window, cfg.spikes.sigma),
        progress_(opts.progress, cfg.train.steps) {
    model_->to(device_);
    val_ = data::val_batches(ds_, ds_.val);
    for (const auto& set : ds_.extra_val) extra_val_.push_back(data::val_batches(ds_, set));
    tokens_per_step_ = cfg.train.batch_size * cfg.model.seq_len * cfg.train.grad_accum;
    for (const auto& p : model::named_params(*model_)) params_ += p.tensor.numel();
    for (const auto& p : model::named_params(*model_))
      if (p.trainable) trainable_.push_back(p.tensor);
  }

  RunOutcome run() {
    resume_or_start();
    sink_.summary("params", static_cast<double>(params_));
    if (st_.step == 0) {
      if (!measure(0, /*final=*/false)) return diverged_val(0);
      sink_.flush();
    }
    g_started.store(true);
    Clock::time_point interval_start = Clock::now();
    int64_t interval_steps = 0;
    while (st_.step < cfg_.train.steps) {
      const int64_t t = st_.step + 1;  // the update this iteration makes
      const Clock::time_point step_start = Clock::now();
      const auto [loss, grad_norm] = train_step(t);
      fig_.train_seconds += seconds_since(step_start);
      if (!std::isfinite(loss) || !std::isfinite(grad_norm)) return diverged(t, loss, grad_norm);
      st_.step = t;
      st_.tokens += tokens_per_step_;
      ++interval_steps;
      record_step(t, loss, grad_norm);
      const bool last = t == cfg_.train.steps;
      if (t % cfg_.train.log_every == 0 || last) {
        const double tps = static_cast<double>(interval_steps * tokens_per_step_) / std::max(seconds_since(interval_start), 1e-9);
        end_interval(t, tps);
        interval_start = Clock::now();
        interval_steps = 0;
      }
      if (!last && cfg_.eval.every > 0 && t % cfg_.eval.every == 0 && !measure(t, false)) return diverged_val(t);
      if (!last && cfg_.eval.diagnostics_every > 0 && t % cfg_.eval.diagnostics_every == 0) diagnose(t);
      if (!last && cfg_.train.checkpoint_every > 0 && t % cfg_.train.checkpoint_every == 0)
        if (auto end = checkpoint()) return *end;
      if (stop_requested() && !last) return interrupted();
    }
    if (!measure(st_.step, /*final=*/true)) return diverged_val(st_.step);
    diagnose(st_.step);
    write_summary();
    if (auto end = checkpoint()) return *end;
    // Completed: the final checkpoint alone stays (it resumes a longer run
    // and holds the trained weights); the fallbacks are no longer needed.
    if (!opts_.checkpoint_dir.empty()) prune_checkpoints(opts_.checkpoint_dir, 1);
    progress_.finish();
    return {RunStatus::kCompleted, st_.step, st_.tokens, ""};
  }

 private:
  void resume_or_start() {
    if (!opts_.checkpoint_dir.empty() && opts_.resume && resume()) {
      fig_ = Figures::from_json(st_.extra);
      loss_det_ = metrics::SpikeDetector(cfg_.spikes.window, cfg_.spikes.sigma, fig_.loss_spikes);
      grad_det_ = metrics::SpikeDetector(cfg_.spikes.window, cfg_.spikes.sigma, fig_.grad_spikes);
      sink_.resume_from(st_.step);
      spdlog::info("resumed from the checkpoint at step {} of {}", st_.step, cfg_.train.steps);
    } else {
      st_ = TrainState{};
      sink_.resume_from(-1);  // a fresh start voids rows of an earlier attempt
    }
    st_.db_id = opts_.db_id;
    st_.attempt = opts_.attempt;
  }

  // Loads the newest usable checkpoint (see RunOptions::resume); false when
  // there is none. Files that are unreadable are passed over; files of
  // another database, or whose rows this database lacks, are set aside.
  bool resume() {
    for (const CheckpointFile& f : list_checkpoints(opts_.checkpoint_dir)) {
      CheckpointMeta meta;
      try {
        meta = read_checkpoint_meta(f.path);
      } catch (const Error& e) {
        spdlog::warn("{}; falling back to the previous checkpoint", e.what());
        continue;
      }
      std::string why;
      if (meta.config_hash != opts_.run_id) {
        why = "it is a checkpoint of another run (" + meta.config_hash + ")";
      } else if (!opts_.db_id.empty() && !meta.db_id.empty() && meta.db_id != opts_.db_id) {
        why = "it belongs to another database (" + meta.db_id + ", attempt " + std::to_string(meta.attempt) + ")";
      } else if (opts_.history_holds && !opts_.history_holds(meta.step)) {
        why = "this database does not hold its train/loss rows of steps 1 to " + std::to_string(meta.step);
      }
      if (!why.empty()) {
        const auto moved = set_aside(f.path);
        spdlog::warn("checkpoint {} (step {}) not resumed: {}; moved to {}", f.path.string(), meta.step, why,
                     moved.string());
        continue;
      }
      try {
        load_checkpoint(f.path, *model_, opt_, st_, opts_.run_id);
      } catch (const Error& e) {
        // The file passed the first read, so the model may be half loaded:
        // set the file aside and stop; the next start takes the previous one.
        const auto moved = set_aside(f.path);
        throw io_error(std::string(e.what()) + "; moved to " + moved.string() +
                       ", run again to resume from the previous checkpoint");
      }
      return true;
    }
    return false;
  }

  // One optimizer step: grad_accum micro-batches, clipping, AdamW. Returns
  // (mean loss, gradient norm before clipping); non-finite values leave the
  // weights untouched.
  std::pair<double, double> train_step(int64_t t) {
    set_lr(opt_, learning_rate(cfg_.train, t - 1));
    opt_.zero_grad();
    at::Tensor loss_sum = at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(device_));
    const bool log_step = t % cfg_.train.log_every == 0 || t == cfg_.train.steps;
    for (int64_t micro = 0; micro < cfg_.train.grad_accum; ++micro) {
      const data::Batch b = data::train_batch(ds_, t - 1, micro);
      at::Tensor loss, aux;  // the cross-entropy (train/loss) and the MoE's aux losses (trained, logged apart)
      {
        AutocastGuard autocast(cfg_.train.dtype == "bfloat16", device_.type());
        loss = model_->loss(b.x.to(device_), b.y.to(device_)) / static_cast<double>(cfg_.train.grad_accum);
        aux = model_->moe_aux_loss();  // undefined for a dense FFN
      }
      if (cfg_.train.inject_nan_at == t) loss = loss * std::numeric_limits<float>::quiet_NaN();
      if (aux.defined()) {
        if (log_step) moe_log_.add(*model_);
        (loss + aux / static_cast<double>(cfg_.train.grad_accum)).backward();
      } else {
        loss.backward();
      }
      loss_sum += loss.detach();
    }
    if (log_step) moe_log_.write(t, sink_);
    if (diagnostics_due(t)) record_grad_norms(*model_, t, sink_);
    const double max_norm = cfg_.train.grad_clip > 0 ? cfg_.train.grad_clip : std::numeric_limits<double>::infinity();
    const double grad_norm = torch::nn::utils::clip_grad_norm_(trainable_, max_norm);  // a host-device sync
    const double loss = loss_sum.item<double>();
    if (std::isfinite(loss) && std::isfinite(grad_norm)) opt_.step();
    return {loss, grad_norm};
  }

  bool diagnostics_due(int64_t t) const {
    return t == cfg_.train.steps || (cfg_.eval.diagnostics_every > 0 && t % cfg_.eval.diagnostics_every == 0);
  }

  void record_step(int64_t t, double loss, double grad_norm) {
    sink_.scalar(t, "train/loss", loss);
    sink_.scalar(t, "train/grad_norm", grad_norm);
    sink_.scalar(t, "train/lr", learning_rate(cfg_.train, t - 1));
    if (auto s = loss_det_.observe(t, loss)) sink_.spike({"train/loss", s->step, s->value, s->mean, s->std, s->score});
    if (auto s = grad_det_.observe(t, grad_norm))
      sink_.spike({"train/grad_norm", s->step, s->value, s->mean, s->std, s->score});
    fig_.recent_losses.push_back(loss);
  }

  void end_interval(int64_t t, double tokens_per_s) {
    double mean = 0;
    for (double l : fig_.recent_losses) mean += l;
    fig_.last_interval_loss = mean / static_cast<double>(std::max<size_t>(fig_.recent_losses.size(), 1));
    fig_.recent_losses.clear();
    sink_.scalar(t, "time/tokens_per_s", tokens_per_s);
    sink_.progress(t, st_.tokens);
    sink_.flush();
    progress_.update(t, fig_.last_interval_loss, tokens_per_s);
  }

  // Validation losses (and bits per byte), plus downstream tasks at the end
  // or when eval.tasks_every asks for them at every evaluation.
  // Returns false when the validation loss is not finite (the run diverged).
  bool measure(int64_t t, bool final) {
    const Clock::time_point start = Clock::now();
    const double val = validation_loss(*model_, val_, device_);
    sink_.scalar(t, "val/loss", val);
    if (!std::isfinite(val)) {
      fig_.last_val_loss = val;
      return false;
    }
    if (ds_.val.bytes_per_token) sink_.scalar(t, "val/bpb", val / std::log(2.0) / *ds_.val.bytes_per_token);
    fig_.last_val_loss = val;
    if (val < fig_.best_val_loss) {
      fig_.best_val_loss = val;
      fig_.best_val_step = t;
    }
    std::string line = fmt::format("step {:>6} | val loss {:.4f}", t, val);
    for (size_t i = 0; i < extra_val_.size(); ++i) {
      const auto& set = ds_.extra_val[i];
      const double loss = validation_loss(*model_, extra_val_[i], device_);
      sink_.scalar(t, "val/" + set.name + "/loss", loss);
      if (set.bytes_per_token) sink_.scalar(t, "val/" + set.name + "/bpb", loss / std::log(2.0) / *set.bytes_per_token);
      line += fmt::format(" | {} {:.4f}", set.name, loss);
    }
    if (final || (cfg_.eval.tasks_every && t > 0)) {
      for (const auto& task : tasks_) {
        const TaskScore s = score_task(*model_, task, device_);
        sink_.eval(t, task.name, "acc", s.acc);
        sink_.eval(t, task.name, "acc_norm", s.acc_norm);
        sink_.eval(t, task.name, "n", static_cast<double>(s.n));
        line += fmt::format(" | {} {:.3f}", task.name, s.acc);
      }
    }
    fig_.measure_seconds += seconds_since(start);
    progress_.log(line);
    return true;
  }

  void diagnose(int64_t t) {
    const Clock::time_point start = Clock::now();
    record_probe_diagnostics(*model_, val_.front().x, device_, t, sink_);
    fig_.measure_seconds += seconds_since(start);
  }

  // Writes the checkpoint of step st_.step and prunes to train.keep_checkpoints.
  // Returns the run's end when it must stop: non-finite weights (diverged;
  // nothing written) or a write that failed (interrupted; the earlier
  // checkpoints stay).
  std::optional<RunOutcome> checkpoint() {
    if (opts_.checkpoint_dir.empty()) return std::nullopt;
    for (const auto& p : model::named_params(*model_)) {
      if (!at::isfinite(p.tensor).all().item<bool>()) {  // a host-device sync per parameter, per checkpoint only
        const std::string why = "non-finite weights in " + p.name + " at step " + std::to_string(st_.step) +
                                "; no checkpoint written, the previous one kept";
        return end_diverged(st_.step, why);
      }
    }
    sink_.flush();  // rows up to this step are committed before the checkpoint claims them
    fig_.loss_spikes = loss_det_.state();
    fig_.grad_spikes = grad_det_.state();
    st_.extra = fig_.to_json();
    try {
      save_checkpoint(checkpoint_path(opts_.checkpoint_dir, st_.step), *model_, opt_, st_, opts_.run_id);
    } catch (const Error& e) {
      const auto kept = list_checkpoints(opts_.checkpoint_dir);
      const std::string why = std::string(e.what()) + "; " +
                              (kept.empty() ? std::string("no earlier checkpoint")
                                            : "the checkpoint " + kept.front().path.filename().string() + " is kept");
      progress_.finish();
      spdlog::error("{}", why);
      return RunOutcome{RunStatus::kInterrupted, st_.step, st_.tokens, why};
    }
    prune_checkpoints(opts_.checkpoint_dir, cfg_.train.keep_checkpoints);
    return std::nullopt;
  }

  void write_summary() {
    sink_.summary("final_train_loss", fig_.last_interval_loss);
    sink_.summary("final_val_loss", fig_.last_val_loss);
    sink_.summary("best_val_loss", fig_.best_val_loss);
    sink_.summary("best_val_step", static_cast<double>(fig_.best_val_step));
    sink_.summary("tokens_per_s", static_cast<double>(st_.tokens) / std::max(fig_.train_seconds, 1e-9));
    sink_.summary("spikes/train/loss/count", static_cast<double>(loss_det_.count()));
    sink_.summary("spikes/train/loss/score", loss_det_.spike_score());
    sink_.summary("spikes/train/grad_norm/count", static_cast<double>(grad_det_.count()));
    sink_.summary("spikes/train/grad_norm/score", grad_det_.spike_score());
    sink_.summary("spikes/window", static_cast<double>(cfg_.spikes.window));
    sink_.summary("spikes/sigma", cfg_.spikes.sigma);
    sink_.summary("time/train_s", fig_.train_seconds);
    sink_.summary("time/measure_s", fig_.measure_seconds);
    sink_.summary("time/measure_share", fig_.measure_seconds / std::max(fig_.train_seconds + fig_.measure_seconds, 1e-9));
    sink_.summary(device_.is_cuda() ? "memory/peak_cuda_bytes" : "memory/peak_rss_bytes", peak_memory_bytes());
    sink_.flush();
  }

  double peak_memory_bytes() const {
    if (device_.is_cuda()) return cuda_peak_allocated_bytes(device_.has_index() ? device_.index() : 0);
    return peak_rss_bytes();
  }

  RunOutcome diverged(int64_t t, double loss, double grad_norm) {
    const std::string why = fmt::format("non-finite {} at step {} (loss {}, grad norm {}); weights of step {} kept",
                                        std::isfinite(loss) ? "gradient" : "loss", t, loss, grad_norm, st_.step);
    sink_.scalar(t, "train/loss", loss);
    return end_diverged(t, why);
  }

  RunOutcome diverged_val(int64_t t) {
    return end_diverged(t, fmt::format("non-finite validation loss ({}) at step {}; no checkpoint written",
                                       fig_.last_val_loss, t));
  }

  RunOutcome end_diverged(int64_t t, const std::string& why) {
    sink_.summary("diverged_step", static_cast<double>(t));
    write_summary();
    progress_.finish();
    spdlog::error("{}", why);
    return {RunStatus::kDiverged, st_.step, st_.tokens, why};  // no checkpoint: the last good one stays
  }

  RunOutcome interrupted() {
    if (auto end = checkpoint()) return *end;
    sink_.flush();
    progress_.finish();
    spdlog::warn("interrupted at step {} of {}; checkpoint written, run again to resume", st_.step, cfg_.train.steps);
    return {RunStatus::kInterrupted, st_.step, st_.tokens, "interrupted at step " + std::to_string(st_.step)};
  }

  const config::RunConfig& cfg_;
  const RunOptions& opts_;
  MetricSink& sink_;
  at::Device device_;
  data::Dataset ds_;
  std::vector<data::Task> tasks_;
  model::Gpt model_;
  torch::optim::AdamW opt_;
  std::vector<at::Tensor> trainable_;
  std::vector<data::Batch> val_;
  std::vector<std::vector<data::Batch>> extra_val_;
  metrics::SpikeDetector loss_det_, grad_det_;
  MoeStepLog moe_log_;  // model.ffn moe: the routing of the current log step
  ProgressDisplay progress_;
  TrainState st_;
  Figures fig_;
  int64_t tokens_per_step_ = 0;
  int64_t params_ = 0;
};

}  // namespace

void request_stop() { g_stop.store(true); }
bool stop_requested() { return g_stop.load(); }
void clear_stop() { g_stop.store(false); }
bool training_started() { return g_started.load(); }

void check_fits(const config::RunConfig& cfg) {
  const at::Device device = parse_device(cfg.train.device);
  const double available = device.is_cuda() ? cuda_free_bytes(device.has_index() ? device.index() : 0)
                                            : available_host_bytes().value_or(0);
  if (available <= 0) return;  // unknown: nothing to compare with
  const std::string refusal =
      memory_refusal(cfg, available, device.is_cuda() ? device.str() + " memory" : "CPU memory (MemAvailable)");
  if (!refusal.empty()) throw bad_input(refusal);
}

RunOutcome train_run(const config::RunConfig& cfg, const RunOptions& opts, MetricSink& sink) {
  check_fits(cfg);
  if (cfg.train.threads > 0) at::set_num_threads(static_cast<int>(cfg.train.threads));
  try {
    Trainer trainer(cfg, opts, sink);
    return trainer.run();
  } catch (const Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Error(ErrorKind::kRunFailed, "LibTorch: " + message_of(e));
  }
}

}  // namespace hcx::train
