// Semantic checks of a run config (validate() in run_config.h): one function
// per decision, called in a fixed order, so the errors of a config always come
// out in the same order, each naming its dotted key.
#include <algorithm>
#include <string>
#include <vector>

#include "hcx/config/run_config.h"
#include "hcx/util/text.h"

namespace hcx::config {
namespace {

// Numbers in messages as a person writes them: -3, not -3.0; 0.001, not 1e-03.
std::string num(double v) {
  if (v == static_cast<double>(static_cast<int64_t>(v)) && v > -1e15 && v < 1e15)
    return std::to_string(static_cast<int64_t>(v));
  return Json(v).dump();  // shortest spelling that reads back the same: 0.001
}

bool one_of(const std::string& v, std::initializer_list<const char*> options) {
  for (const char* o : options)
    if (v == o) return true;
  return false;
}

std::string quoted_list(std::initializer_list<const char*> options) {
  std::string s;
  for (const char* o : options) s += (s.empty() ? "" : ", ") + std::string("\"") + o + "\"";
  return s;
}

// The checks validate() is made of. Each adds "key: expected ..., got ..." to
// `errors` when a value is out of bounds; people and tests read these
// messages, so their wording is part of the interface.
struct Checks {
  std::vector<std::string>& errors;

  void positive(const char* key, double v) {
    if (!(v > 0)) errors.push_back(std::string(key) + ": expected a positive number, got " + num(v));
  }
  void at_least(const char* key, int64_t v, int64_t lo) {
    if (v < lo)
      errors.push_back(std::string(key) + ": expected an integer >= " + std::to_string(lo) + ", got " +
                       std::to_string(v));
  }
  // Sizes beyond any model this tool is for: refused before anything is
  // allocated (train/memory_estimate.h then checks what fits the machine).
  void at_most(const char* key, int64_t v, int64_t hi) {
    if (v > hi)
      errors.push_back(std::string(key) + ": expected an integer <= " + std::to_string(hi) + ", got " +
                       std::to_string(v));
  }
  void choice(const char* key, const std::string& v, std::initializer_list<const char*> options) {
    if (!one_of(v, options)) {
      std::vector<std::string> names(options.begin(), options.end());
      std::string msg = std::string(key) + ": expected one of " + quoted_list(options) + ", got \"" + v + "\"";
      msg += util::did_you_mean(nearest(v, names));
      errors.push_back(msg);
    }
  }
  void in_range(const char* key, double v, double lo, double hi, const char* what) {
    if (!(v >= lo && v <= hi)) errors.push_back(std::string(key) + ": expected " + what + ", got " + num(v));
  }
};

// The model's size: every dimension within bounds, and heads that split
// d_model into even head sizes.
void check_model_shape(const RunConfig& c, Checks& check) {
  check.at_least("model.d_model", c.model.d_model, 1);
  check.at_least("model.n_layers", c.model.n_layers, 1);
  check.at_least("model.n_heads", c.model.n_heads, 1);
  check.at_least("model.seq_len", c.model.seq_len, 1);
  check.at_least("model.vocab_size", c.model.vocab_size, 2);
  check.at_most("model.d_model", c.model.d_model, kMaxDModel);
  check.at_most("model.n_layers", c.model.n_layers, kMaxLayers);
  check.at_most("model.n_heads", c.model.n_heads, kMaxHeads);
  check.at_most("model.seq_len", c.model.seq_len, kMaxSeqLen);
  check.at_most("model.vocab_size", c.model.vocab_size, kMaxVocab);
  if (c.model.d_model > 0 && c.model.n_heads > 0) {
    if (c.model.d_model % c.model.n_heads != 0) {
      check.errors.push_back("model.d_model: expected a multiple of model.n_heads (" + std::to_string(c.model.n_heads) +
                             "), got " + std::to_string(c.model.d_model));
    } else if ((c.model.d_model / c.model.n_heads) % 2 != 0) {
      check.errors.push_back(
          "model.n_heads: expected a head size d_model/n_heads that is even (RoPE rotates pairs), got " +
          std::to_string(c.model.d_model / c.model.n_heads));
    }
  }
}

// The MoE FFN's experts, routing and auxiliary losses (model.ffn "moe").
void check_moe(const RunConfig& c, Checks& check) {
  const auto& m = c.model;
  check.at_least("model.moe_experts", m.moe_experts, 1);
  check.at_most("model.moe_experts", m.moe_experts, kMaxExperts);
  check.at_least("model.moe_top_k", m.moe_top_k, 1);
  if (m.moe_experts >= 1 && m.moe_top_k > m.moe_experts)
    check.errors.push_back("model.moe_top_k: expected at most model.moe_experts (" + std::to_string(m.moe_experts) +
                           ") experts per token, got " + std::to_string(m.moe_top_k));
  check.at_least("model.moe_hidden", m.moe_hidden, 0);
  check.at_most("model.moe_hidden", m.moe_hidden, 8 * kMaxDModel);
  check.in_range("model.moe_lb_weight", m.moe_lb_weight, 0.0, 1e3, "a number in [0, 1000]");
  check.in_range("model.moe_z_weight", m.moe_z_weight, 0.0, 1e3, "a number in [0, 1000]");
  check.choice("model.moe_lb_convention", m.moe_lb_convention, {"megablocks", "hf"});
  check.choice("model.moe_z_reduce", m.moe_z_reduce, {"mean", "sum"});
}

// What the blocks are built from: FFN and norm kinds, and the numbers of the
// norms, the init and RoPE.
void check_model_layers(const RunConfig& c, Checks& check) {
  check.choice("model.ffn", c.model.ffn, {"swiglu", "gelu", "moe"});
  check.choice("model.norm", c.model.norm, {"layernorm", "rmsnorm"});
  check.in_range("model.norm_eps", c.model.norm_eps, 0.0, 1.0, "a number in [0, 1]");
  check.positive("model.init_std", c.model.init_std);
  check.positive("model.rope_theta", c.model.rope_theta);
  if (c.model.ffn == "moe") check_moe(c, check);
}

// The residual variant under study and its options.
void check_residual(const RunConfig& c, Checks& check) {
  const auto& r = c.residual;
  check.choice("residual.kind", r.kind, {"pre_norm", "post_norm", "hc", "mhc", "frac", "laurel", "denseformer", "mudd"});
  if (r.kind == "frac") {
    if (r.n < 1 || r.n > 8) {
      check.errors.push_back("residual.n: expected a frac rate from 1 to 8, got " + std::to_string(r.n));
    } else if (c.model.d_model > 0 && c.model.d_model % r.n != 0) {
      check.errors.push_back("residual.n: expected a frac rate that divides model.d_model (" +
                             std::to_string(c.model.d_model) + ") into equal fractions, got " + std::to_string(r.n));
    }
  } else if (r.n < 1 || r.n > 8) {
    check.errors.push_back("residual.n: expected an expansion rate from 1 to 8, got " + std::to_string(r.n));
  }
  check.choice("residual.reduce", r.reduce, {"sum", "mean"});
  check.at_least("residual.sinkhorn_iters", r.sinkhorn_iters, 1);
  check.at_least("residual.laurel_rank", r.laurel_rank, 0);
  if (c.model.d_model > 0) check.at_most("residual.laurel_rank", r.laurel_rank, c.model.d_model);
  check.at_least("residual.dwa_dilation", r.dwa_dilation, 1);
  check.at_least("residual.dwa_period", r.dwa_period, 1);
  check.at_most("residual.dwa_dilation", r.dwa_dilation, kMaxLayers);
  check.at_most("residual.dwa_period", r.dwa_period, kMaxLayers);
}

// Where the tokens come from, and a vocabulary that holds byte-level text.
void check_data(const RunConfig& c, Checks& check) {
  check.choice("data.source", c.data.source, {"synthetic", "text", "tokens"});
  if ((c.data.source == "text" || c.data.source == "tokens") && c.data.path.empty())
    check.errors.push_back("data.path: expected a file path for data.source \"" + c.data.source + "\", got nothing");
  check.choice("data.token_dtype", c.data.token_dtype, {"uint16", "uint32"});
  if (!(c.data.val_fraction > 0 && c.data.val_fraction < 1))
    check.errors.push_back("data.val_fraction: expected a number in (0, 1), got " + num(c.data.val_fraction));
  check.at_least("data.synthetic_tokens", c.data.synthetic_tokens, 1024);
  if (c.data.difficulty < 1 || c.data.difficulty > 4)
    check.errors.push_back("data.difficulty: expected an integer from 1 to 4, got " +
                           std::to_string(c.data.difficulty));
  if (c.data.source == "text" && c.data.tokenizer == "bytes" && c.model.vocab_size < 256)
    check.errors.push_back("model.vocab_size: expected >= 256 for byte-level text (data.tokenizer \"bytes\"), got " +
                           std::to_string(c.model.vocab_size));
}

// tokens: task and extra_val texts are encoded with data.tokenizer, and the
// default "bytes" cannot be what produced ids from a larger vocabulary: the
// tasks would be scored on the wrong ids.
void check_tokenizer_of_texts(const RunConfig& c, Checks& check) {
  if (c.data.source != "tokens" || c.data.tokenizer != "bytes" || c.model.vocab_size <= 256) return;
  std::string text;  // the first text that would be encoded as bytes
  for (size_t i = 0; i < c.eval.tasks.size() && text.empty(); ++i) {
    const auto& t = c.eval.tasks[i];
    if (t.kind == "choice" || t.kind == "pairs") text = "eval.tasks[" + std::to_string(i) + "] (" + t.name + ")";
  }
  if (text.empty() && !c.eval.extra_val.empty()) text = "eval.extra_val[0] (" + c.eval.extra_val[0].name + ")";
  if (!text.empty())
    check.errors.push_back("data.tokenizer: \"bytes\" would encode " + text +
                           " as bytes, but data.source \"tokens\" with model.vocab_size " +
                           std::to_string(c.model.vocab_size) +
                           " holds another tokenizer's ids; set data.tokenizer to the SentencePiece model data.path "
                           "was encoded with (hcx data encode --tokenizer), or drop those texts");
}

// How long and how fast: steps, batch size and the learning-rate schedule.
void check_schedule(const RunConfig& c, Checks& check) {
  check.at_least("train.steps", c.train.steps, 1);
  check.at_least("train.batch_size", c.train.batch_size, 1);
  check.at_most("train.steps", c.train.steps, kMaxSteps);
  check.at_most("train.batch_size", c.train.batch_size, kMaxBatch);
  check.positive("train.lr", c.train.lr);
  check.at_least("train.warmup_steps", c.train.warmup_steps, 0);
  check.choice("train.schedule", c.train.schedule, {"cosine", "linear", "constant", "wsd"});
  check.in_range("train.min_lr_ratio", c.train.min_lr_ratio, 0.0, 1.0, "a number in [0, 1]");
  if (!(c.train.decay_fraction > 0 && c.train.decay_fraction <= 1))
    check.errors.push_back("train.decay_fraction: expected a number in (0, 1], got " + num(c.train.decay_fraction));
}

// The optimizer step: AdamW's weight decay and betas, clipping, accumulation.
void check_optimizer(const RunConfig& c, Checks& check) {
  check.in_range("train.weight_decay", c.train.weight_decay, 0.0, 10.0, "a number in [0, 10]");
  if (!(c.train.beta1 >= 0 && c.train.beta1 < 1))
    check.errors.push_back("train.beta1: expected a number in [0, 1), got " + num(c.train.beta1));
  if (!(c.train.beta2 >= 0 && c.train.beta2 < 1))
    check.errors.push_back("train.beta2: expected a number in [0, 1), got " + num(c.train.beta2));
  if (!(c.train.grad_clip >= 0))
    check.errors.push_back("train.grad_clip: expected a number >= 0 (0 disables clipping), got " +
                           num(c.train.grad_clip));
  check.at_least("train.grad_accum", c.train.grad_accum, 1);
  check.at_most("train.grad_accum", c.train.grad_accum, kMaxBatch);
}

// "cpu", "cuda" or "cuda:N" with N all digits.
bool is_device_name(const std::string& d) {
  if (d == "cpu" || d == "cuda") return true;
  return d.rfind("cuda:", 0) == 0 && d.size() > 5 &&
         std::all_of(d.begin() + 5, d.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

// Where the run computes: device, dtype and CPU threads.
void check_device(const RunConfig& c, Checks& check) {
  if (!is_device_name(c.train.device))
    check.errors.push_back("train.device: expected \"cpu\", \"cuda\" or \"cuda:N\", got \"" + c.train.device + "\"");
  check.choice("train.dtype", c.train.dtype, {"float32", "bfloat16"});
  check.at_least("train.threads", c.train.threads, 0);
}

// What the run leaves behind while it trains: checkpoints and log intervals
// (and the NaN a test injects).
void check_checkpoints_and_logs(const RunConfig& c, Checks& check) {
  check.at_least("train.checkpoint_every", c.train.checkpoint_every, 0);
  check.at_least("train.keep_checkpoints", c.train.keep_checkpoints, 1);
  check.at_least("train.log_every", c.train.log_every, 1);
  check.at_least("train.inject_nan_at", c.train.inject_nan_at, 0);
}

// How often and on how much the run is evaluated.
void check_eval_intervals(const RunConfig& c, Checks& check) {
  check.at_least("eval.every", c.eval.every, 0);
  check.at_least("eval.batches", c.eval.batches, 1);
  check.at_least("eval.diagnostics_every", c.eval.diagnostics_every, 0);
}

// Each entry of eval.tasks, named by its index.
void check_eval_tasks(const RunConfig& c, Checks& check) {
  for (size_t i = 0; i < c.eval.tasks.size(); ++i) {
    const auto& t = c.eval.tasks[i];
    const std::string key = "eval.tasks[" + std::to_string(i) + "]";
    if (t.name.empty()) check.errors.push_back(key + ".name: expected a task name, got nothing");
    if (!one_of(t.kind, {"choice", "pairs", "synthetic"}))
      check.errors.push_back(key + ".kind: expected one of \"choice\", \"pairs\", \"synthetic\", got \"" + t.kind +
                             "\"");
    if (t.kind != "synthetic" && t.path.empty())
      check.errors.push_back(key + ".path: expected a JSONL file, got nothing");
    if (t.limit < 0) check.errors.push_back(key + ".limit: expected an integer >= 0, got " + std::to_string(t.limit));
    if (t.stride < 1)
      check.errors.push_back(key + ".stride: expected an integer >= 1, got " + std::to_string(t.stride));
  }
}

// Each entry of eval.extra_val, named by its index.
void check_extra_val(const RunConfig& c, Checks& check) {
  for (size_t i = 0; i < c.eval.extra_val.size(); ++i) {
    const auto& x = c.eval.extra_val[i];
    const std::string key = "eval.extra_val[" + std::to_string(i) + "]";
    if (x.name.empty()) check.errors.push_back(key + ".name: expected a name, got nothing");
    if (x.path.empty()) check.errors.push_back(key + ".path: expected a text file, got nothing");
  }
}

// The loss-spike rule: a window of at least two values and a positive sigma.
void check_spikes(const RunConfig& c, Checks& check) {
  check.at_least("spikes.window", c.spikes.window, 2);
  check.positive("spikes.sigma", c.spikes.sigma);
}

}  // namespace

std::vector<std::string> validate(const RunConfig& c) {
  std::vector<std::string> errors;
  Checks check{errors};
  check.at_least("seed", c.seed, 0);
  check_model_shape(c, check);
  check_model_layers(c, check);
  check_residual(c, check);
  check_data(c, check);
  check_tokenizer_of_texts(c, check);
  check_schedule(c, check);
  check_optimizer(c, check);
  check_device(c, check);
  check_checkpoints_and_logs(c, check);
  check_eval_intervals(c, check);
  check_eval_tasks(c, check);
  check_extra_val(c, check);
  check_spikes(c, check);
  return errors;
}

}  // namespace hcx::config
