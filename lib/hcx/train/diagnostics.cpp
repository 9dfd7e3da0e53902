// Collapse, gradient-norm and connection diagnostics; see diagnostics.h.
#include "hcx/train/diagnostics.h"

#include <algorithm>
#include <cmath>
#include <string>

#include <ATen/ATen.h>
#include <torch/types.h>
#include <torch/utils.h>

#include "hcx/metrics/connections.h"

namespace hcx::train {
namespace {

metrics::Matrix to_matrix(const at::Tensor& t) {
  const at::Tensor c = t.detach().to(at::kCPU, at::kDouble).contiguous();
  metrics::Matrix m;
  m.rows = c.size(0);
  m.cols = c.size(1);
  m.v.assign(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  return m;
}

MatrixRow matrix_row(int64_t step, int64_t layer, const char* sublayer, const char* name, const metrics::Matrix& m) {
  MatrixRow r;
  r.step = step;
  r.layer = layer;
  r.sublayer = sublayer;
  r.name = name;
  r.rows = m.rows;
  r.cols = m.cols;
  r.values = m.v;
  return r;
}

}  // namespace

int64_t sublayer_of(const std::string& name) {
  if (name.rfind("h.", 0) != 0) return -1;
  const size_t dot = name.find('.', 2);
  const int64_t block = std::stoll(name.substr(2, dot - 2));
  const std::string rest = name.substr(dot + 1);
  const bool ffn_side = rest.rfind("ln_2", 0) == 0 || rest.rfind("mlp", 0) == 0 || rest.rfind("hc_ffn", 0) == 0 ||
                        rest == "dwa_weights" || rest.rfind("mudd", 0) == 0;  // DWA and DA follow the FFN
  return 2 * block + (ffn_side ? 1 : 0);
}

void record_grad_norms(model::GptImpl& model, int64_t step, MetricSink& sink) {
  std::vector<at::Tensor> sq(static_cast<size_t>(model.n_sublayers()));
  for (const auto& p : model.named_parameters()) {
    const int64_t k = sublayer_of(p.key());
    if (k < 0 || !p.value().grad().defined()) continue;
    const at::Tensor s = p.value().grad().detach().to(at::kDouble).pow(2).sum();
    sq[static_cast<size_t>(k)] = sq[static_cast<size_t>(k)].defined() ? sq[static_cast<size_t>(k)] + s : s;
  }
  for (size_t k = 0; k < sq.size(); ++k) {
    if (sq[k].defined()) sink.layer_stat(step, static_cast<int64_t>(k), "grad_norm", std::sqrt(sq[k].item<double>()));
  }
}

void MoeStepLog::add(const model::GptImpl& model) {
  const auto routing = model.moe_routing();
  if (routing.empty()) return;
  const at::NoGradGuard no_grad;
  layers_.resize(routing.size());
  for (size_t l = 0; l < routing.size(); ++l) {
    const model::MoeRouting& r = *routing[l];
    Layer& out = layers_[l];
    const at::Tensor c = r.counts.to(at::kCPU);
    out.counts = out.counts.defined() ? out.counts + c : c;
    out.lb += r.lb.item<double>();
    out.z += r.z.item<double>();
    out.entropy += r.entropy.item<double>();
    out.selected += r.selected.item<double>();
    out.max_logit = std::max(out.max_logit, r.max_logit.item<double>());
    out.assignments += r.assignments;
    out.computed += r.computed;
  }
  aux_ += model.moe_aux_loss().item<double>();
  ++micro_batches_;
}

void MoeStepLog::write(int64_t step, MetricSink& sink) {
  if (micro_batches_ == 0) return;
  const double mb = double(micro_batches_);
  double lb = 0, z = 0;
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& r = layers_[l];
    const int64_t k = 2 * int64_t(l) + 1;  // block l's FFN sublayer
    const at::Tensor c = r.counts.to(at::kDouble);
    const int64_t E = c.numel();
    const double total = c.sum().item<double>(), mean = total / double(E);
    const at::Tensor f = c / total;
    sink.layer_stat(step, k, "moe/lb", r.lb / mb);
    sink.layer_stat(step, k, "moe/z", r.z / mb);
    for (int64_t e = 0; e < E; ++e) sink.layer_stat(step, k, "moe/load/" + std::to_string(e), f[e].item<double>());
    sink.layer_stat(step, k, "moe/load_cv", (c - mean).pow(2).mean().sqrt().item<double>() / mean);
    sink.layer_stat(step, k, "moe/max_load", double(E) * f.max().item<double>());
    sink.layer_stat(step, k, "moe/dead", (c == 0).sum().item<double>());
    sink.layer_stat(step, k, "moe/entropy", r.entropy / mb);
    sink.layer_stat(step, k, "moe/selected_mass", r.selected / mb);
    sink.layer_stat(step, k, "moe/max_logit", r.max_logit);
    sink.layer_stat(step, k, "moe/drop_rate", 1.0 - double(r.computed) / double(r.assignments));
    lb += r.lb / mb;
    z += r.z / mb;
  }
  sink.scalar(step, "train/moe_lb", lb / double(layers_.size()));
  sink.scalar(step, "train/moe_z", z / double(layers_.size()));
  sink.scalar(step, "train/aux_loss", aux_ / mb);
  *this = MoeStepLog{};
}

std::vector<double> token_cosines(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor x = a.detach().to(at::kDouble).flatten(0, -2);  // (B*T, d)
  const at::Tensor y = b.detach().to(at::kDouble).flatten(0, -2);  // (B*T, d)
  const at::Tensor cos = (x * y).sum(-1) / (x.norm(2, -1) * y.norm(2, -1)).clamp_min(1e-30);  // (B*T)
  const at::Tensor c = cos.to(at::kCPU).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

void record_probe_diagnostics(model::GptImpl& model, const at::Tensor& probe, const at::Device& device, int64_t step,
                              MetricSink& sink) {
  torch::NoGradGuard no_grad;
  model::ForwardTrace trace;
  model.forward(probe.to(device), &trace);
  // Collapse: similar consecutive inputs mean the sublayers see nearly the same signal.
  for (size_t k = 0; k + 1 < trace.sublayer_inputs.size(); ++k) {
    const auto q = metrics::quantiles(token_cosines(trace.sublayer_inputs[k], trace.sublayer_inputs[k + 1]));
    sink.layer_stat(step, static_cast<int64_t>(k), "cos/median", q.median);
    sink.layer_stat(step, static_cast<int64_t>(k), "cos/p5", q.p5);
    sink.layer_stat(step, static_cast<int64_t>(k), "cos/p95", q.p95);
  }
  for (size_t k = 0; k < trace.frac_matrices.size(); ++k)
    sink.matrix(matrix_row(step, static_cast<int64_t>(k), k % 2 == 0 ? "attn" : "ffn", "frac",
                           to_matrix(trace.frac_matrices[k])));
  for (size_t i = 0; i < trace.mudd_weights.size(); ++i)
    sink.matrix(matrix_row(step, static_cast<int64_t>(2 * i + 1), "ffn", "mudd", to_matrix(trace.mudd_weights[i])));
  if (const at::Tensor dwa = model::dwa_matrix(model); dwa.defined())
    sink.matrix(matrix_row(step, -1, "model", "dwa", to_matrix(dwa)));
  if (const at::Tensor gains = model::laurel_gains(model); gains.defined())
    sink.matrix(matrix_row(step, -1, "model", "laurel", to_matrix(gains)));
  if (trace.hc_matrices.empty()) return;
  std::vector<metrics::Matrix> hc;
  for (size_t k = 0; k < trace.hc_matrices.size(); ++k) {
    hc.push_back(to_matrix(trace.hc_matrices[k]));
    sink.matrix(matrix_row(step, static_cast<int64_t>(k), k % 2 == 0 ? "attn" : "ffn", "hc", hc.back()));
  }
  const auto& res = model.config().residual;
  const double reduce_weight = res.reduce == "mean" ? 1.0 / static_cast<double>(res.n) : 1.0;
  sink.matrix(matrix_row(step, -1, "model", "unfolded", metrics::unfold_connections(hc, reduce_weight)));
  const metrics::CompositeGain gain = metrics::composite_gain(hc);
  sink.matrix(matrix_row(step, -1, "model", "composite", gain.product));
  sink.scalar(step, "hc/gain_row", gain.max_row_sum);
  sink.scalar(step, "hc/gain_col", gain.max_col_sum);
}

}  // namespace hcx::train
