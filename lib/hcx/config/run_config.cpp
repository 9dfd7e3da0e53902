// Run config (de)serialisation and validation. One table of fields, walked by
// visitors, gives parsing, printing, flattening and the list of known keys, so
// a new key is one line in visit_fields() plus its check in validate().
#include "hcx/config/run_config.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "hcx/config/json_text.h"
#include "hcx/config/yaml.h"
#include "hcx/error.h"
#include "hcx/util/text.h"

namespace hcx::config {
namespace {

// Calls v(dotted_key, field) for every field of a run config, in order.
template <class C, class V>
void visit_fields(C& c, V&& v) {
  v("seed", c.seed);
  v("model.d_model", c.model.d_model);
  v("model.n_layers", c.model.n_layers);
  v("model.n_heads", c.model.n_heads);
  v("model.seq_len", c.model.seq_len);
  v("model.vocab_size", c.model.vocab_size);
  v("model.ffn", c.model.ffn);
  v("model.norm", c.model.norm);
  v("model.tie_embeddings", c.model.tie_embeddings);
  v("model.norm_eps", c.model.norm_eps);
  v("model.init_std", c.model.init_std);
  v("model.rope_theta", c.model.rope_theta);
  v("residual.kind", c.residual.kind);
  v("residual.n", c.residual.n);
  v("residual.dynamic", c.residual.dynamic);
  v("residual.tanh", c.residual.tanh);
  v("residual.freeze_width", c.residual.freeze_width);
  v("residual.freeze_beta", c.residual.freeze_beta);
  v("residual.reduce", c.residual.reduce);
  v("residual.scale_out_init", c.residual.scale_out_init);
  v("residual.sinkhorn_iters", c.residual.sinkhorn_iters);
  v("data.source", c.data.source);
  v("data.path", c.data.path);
  v("data.tokenizer", c.data.tokenizer);
  v("data.token_dtype", c.data.token_dtype);
  v("data.val_fraction", c.data.val_fraction);
  v("data.synthetic_tokens", c.data.synthetic_tokens);
  v("data.difficulty", c.data.difficulty);
  v("train.steps", c.train.steps);
  v("train.batch_size", c.train.batch_size);
  v("train.lr", c.train.lr);
  v("train.warmup_steps", c.train.warmup_steps);
  v("train.schedule", c.train.schedule);
  v("train.min_lr_ratio", c.train.min_lr_ratio);
  v("train.decay_fraction", c.train.decay_fraction);
  v("train.weight_decay", c.train.weight_decay);
  v("train.beta1", c.train.beta1);
  v("train.beta2", c.train.beta2);
  v("train.grad_clip", c.train.grad_clip);
  v("train.grad_accum", c.train.grad_accum);
  v("train.device", c.train.device);
  v("train.dtype", c.train.dtype);
  v("train.threads", c.train.threads);
  v("train.checkpoint_every", c.train.checkpoint_every);
  v("train.keep_checkpoints", c.train.keep_checkpoints);
  v("train.log_every", c.train.log_every);
  v("train.inject_nan_at", c.train.inject_nan_at);
  v("eval.every", c.eval.every);
  v("eval.batches", c.eval.batches);
  v("eval.tasks", c.eval.tasks);
  v("eval.extra_val", c.eval.extra_val);
  v("eval.diagnostics_every", c.eval.diagnostics_every);
  v("eval.tasks_every", c.eval.tasks_every);
  v("spikes.window", c.spikes.window);
  v("spikes.sigma", c.spikes.sigma);
}

template <class C, class V>
void visit_task_fields(C& t, V&& v) {
  v("name", t.name);
  v("kind", t.kind);
  v("path", t.path);
  v("context_field", t.context_field);
  v("choices_field", t.choices_field);
  v("label_field", t.label_field);
  v("good_field", t.good_field);
  v("bad_field", t.bad_field);
  v("limit", t.limit);
  v("stride", t.stride);
}

template <class C, class V>
void visit_extra_val_fields(C& e, V&& v) {
  v("name", e.name);
  v("path", e.path);
}

std::string show(const Json& j) {
  std::string s = j.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

std::vector<std::string> split_dots(const std::string& key) {
  std::vector<std::string> parts;
  std::stringstream ss(key);
  std::string part;
  while (std::getline(ss, part, '.')) parts.push_back(part);
  return parts;
}

const Json* find_dotted(const Json& j, const std::string& key) {
  const Json* cur = &j;
  for (const auto& part : split_dots(key)) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(part);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

// Reads one JSON value into a typed field, or records why it cannot.
struct Reader {
  const std::string& key;
  std::vector<std::string>& errors;

  void operator()(const Json& j, int64_t& out) {
    if (j.is_number_integer() || j.is_number_unsigned()) {
      out = j.get<int64_t>();
    } else if (j.is_number_float() && j.get<double>() == static_cast<double>(static_cast<int64_t>(j.get<double>()))) {
      out = static_cast<int64_t>(j.get<double>());  // 1e3 spells an integer too
    } else {
      errors.push_back(key + ": expected an integer, got " + show(j));
    }
  }
  void operator()(const Json& j, double& out) {
    if (j.is_number()) {
      out = j.get<double>();
    } else {
      errors.push_back(key + ": expected a number, got " + show(j));
    }
  }
  void operator()(const Json& j, bool& out) {
    if (j.is_boolean()) {
      out = j.get<bool>();
    } else {
      errors.push_back(key + ": expected true or false, got " + show(j));
    }
  }
  void operator()(const Json& j, std::string& out) {
    if (j.is_string()) {
      out = j.get<std::string>();
    } else {
      errors.push_back(key + ": expected a string, got " + show(j));
    }
  }
  template <class T, class VisitItem>
  void read_list(const Json& j, std::vector<T>& out, VisitItem visit_item) {
    if (!j.is_array()) {
      errors.push_back(key + ": expected a list of objects, got " + show(j));
      return;
    }
    out.clear();
    for (size_t i = 0; i < j.size(); ++i) {
      const std::string item_key = key + "[" + std::to_string(i) + "]";
      if (!j[i].is_object()) {
        errors.push_back(item_key + ": expected an object, got " + show(j[i]));
        continue;
      }
      T item;
      std::vector<std::string> names;
      visit_item(item, [&](const char* name, auto& field) {
        names.push_back(name);
        auto it = j[i].find(name);
        if (it != j[i].end()) Reader{item_key + "." + name, errors}(*it, field);
      });
      for (const auto& [k, unused] : j[i].items()) {
        if (std::find(names.begin(), names.end(), k) == names.end()) {
          std::string msg = item_key + "." + k + ": unknown key";
          msg += util::did_you_mean(nearest(k, names));
          errors.push_back(msg);
        }
      }
      out.push_back(item);
    }
  }
  void operator()(const Json& j, std::vector<TaskSpec>& out) {
    read_list(j, out, [](auto& t, auto&& v) { visit_task_fields(t, v); });
  }
  void operator()(const Json& j, std::vector<ExtraValSpec>& out) {
    read_list(j, out, [](auto& e, auto&& v) { visit_extra_val_fields(e, v); });
  }
};

Json task_to_json(const TaskSpec& t) {
  Json j = Json::object();
  visit_task_fields(t, [&](const char* name, const auto& field) { j[name] = field; });
  return j;
}

Json extra_val_to_json(const ExtraValSpec& e) {
  Json j = Json::object();
  visit_extra_val_fields(e, [&](const char* name, const auto& field) { j[name] = field; });
  return j;
}

struct JsonWriter {
  Json& out;
  template <class T>
  void operator()(const char* key, const T& field) { set_dotted(out, key, Json(field)); }
  void operator()(const char* key, const std::vector<TaskSpec>& field) {
    Json list = Json::array();
    for (const auto& t : field) list.push_back(task_to_json(t));
    set_dotted(out, key, list);
  }
  void operator()(const char* key, const std::vector<ExtraValSpec>& field) {
    Json list = Json::array();
    for (const auto& e : field) list.push_back(extra_val_to_json(e));
    set_dotted(out, key, list);
  }
};

// Walks the input and reports every key that is not a known field or prefix.
void check_unknown(const Json& j, const std::string& prefix, const std::set<std::string>& known,
                   const std::set<std::string>& prefixes, std::vector<std::string>& errors) {
  for (const auto& [k, v] : j.items()) {
    const std::string key = prefix.empty() ? k : prefix + "." + k;
    if (known.count(key)) continue;
    if (prefixes.count(key)) {
      if (v.is_object()) {
        check_unknown(v, key, known, prefixes, errors);
      } else {
        errors.push_back(key + ": expected an object, got " + show(v));
      }
      continue;
    }
    std::vector<std::string> candidates;
    for (const auto& name : known) candidates.push_back(name);
    for (const auto& name : prefixes) candidates.push_back(name);
    std::string msg = key + ": unknown key";
    msg += util::did_you_mean(nearest(key, candidates));
    errors.push_back(msg);
  }
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

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

// What the blocks are built from: FFN and norm kinds, and the numbers of the
// norms, the init and RoPE.
void check_model_layers(const RunConfig& c, Checks& check) {
  check.choice("model.ffn", c.model.ffn, {"swiglu", "gelu"});
  check.choice("model.norm", c.model.norm, {"layernorm", "rmsnorm"});
  check.in_range("model.norm_eps", c.model.norm_eps, 0.0, 1.0, "a number in [0, 1]");
  check.positive("model.init_std", c.model.init_std);
  check.positive("model.rope_theta", c.model.rope_theta);
}

// The residual variant under study and its options.
void check_residual(const RunConfig& c, Checks& check) {
  check.choice("residual.kind", c.residual.kind, {"pre_norm", "post_norm", "hc", "mhc"});
  if (c.residual.n < 1 || c.residual.n > 8)
    check.errors.push_back("residual.n: expected an expansion rate from 1 to 8, got " + std::to_string(c.residual.n));
  check.choice("residual.reduce", c.residual.reduce, {"sum", "mean"});
  check.at_least("residual.sinkhorn_iters", c.residual.sinkhorn_iters, 1);
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

std::string nearest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::string::npos;
  for (const auto& c : candidates) {
    // Compare the last path component too, so "model.dmodel" finds "model.d_model".
    size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  const size_t limit = std::max<size_t>(2, word.size() / 3);
  return best_d <= limit ? best : "";
}

const std::vector<std::string>& known_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k;
    RunConfig c;
    visit_fields(c, [&](const char* key, auto&) { k.push_back(key); });
    return k;
  }();
  return keys;
}

Json expand_dotted(const Json& j) {
  if (!j.is_object()) return j;
  Json out = Json::object();
  for (const auto& [k, v] : j.items()) {
    Json value = expand_dotted(v);
    const auto parts = split_dots(k);
    Json* cur = &out;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      Json& next = (*cur)[parts[i]];
      if (next.is_null()) next = Json::object();
      if (!next.is_object()) throw bad_input(k + ": conflicts with a non-object value set elsewhere");
      cur = &next;
    }
    Json& slot = (*cur)[parts.back()];
    if (slot.is_object() && value.is_object()) {
      slot.merge_patch(value);
    } else if (!slot.is_null() && slot != value) {
      throw bad_input(k + ": set twice with different values (" + show(slot) + " and " + show(value) + ")");
    } else {
      slot = value;
    }
  }
  return out;
}

void set_dotted(Json& j, const std::string& dotted, const Json& value) {
  Json* cur = &j;
  const auto parts = split_dots(dotted);
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!cur->is_object()) *cur = Json::object();
    cur = &(*cur)[parts[i]];
  }
  if (!cur->is_object()) *cur = Json::object();
  (*cur)[parts.back()] = value;
}

Json parse_value(const std::string& raw) {
  Json j = Json::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Json(raw);
  return j;
}

RunConfig from_json(const Json& input, std::vector<std::string>& errors) {
  RunConfig c;
  if (!input.is_object()) {
    errors.push_back("expected a JSON object with the run config, got " + show(input));
    return c;
  }
  Json j;
  try {
    j = expand_dotted(input);
  } catch (const Error& e) {
    errors.push_back(e.what());
    return c;
  }
  std::set<std::string> known, prefixes;
  for (const auto& key : known_keys()) {
    known.insert(key);
    for (size_t pos = key.find('.'); pos != std::string::npos; pos = key.find('.', pos + 1))
      prefixes.insert(key.substr(0, pos));
  }
  check_unknown(j, "", known, prefixes, errors);
  visit_fields(c, [&](const char* key, auto& field) {
    if (const Json* v = find_dotted(j, key)) Reader{key, errors}(*v, field);
  });
  // Semantic checks too, so every problem is reported at once; a key that
  // already failed to parse kept its default and is not reported twice.
  for (auto& e : validate(c)) {
    const std::string key = e.substr(0, e.find(':'));
    const bool seen = std::any_of(errors.begin(), errors.end(),
                                  [&](const std::string& x) { return x.rfind(key + ":", 0) == 0; });
    if (!seen) errors.push_back(std::move(e));
  }
  return c;
}

RunConfig parse_or_throw(const Json& j, const std::string& where) {
  std::vector<std::string> errors;
  RunConfig c = from_json(j, errors);
  if (!errors.empty()) {
    std::string msg;
    for (const auto& e : errors) msg += (msg.empty() ? "" : "\n") + (where.empty() ? e : where + ": " + e);
    throw bad_input(msg);
  }
  return c;
}

RunConfig load_file(const std::string& path) { return parse_or_throw(read_json_file(path), path); }

Json to_json(const RunConfig& c) {
  Json out = Json::object();
  visit_fields(c, JsonWriter{out});
  return out;
}

std::vector<std::pair<std::string, std::string>> flatten(const RunConfig& c) {
  std::vector<std::pair<std::string, std::string>> rows;
  const Json j = to_json(c);
  for (const auto& key : known_keys()) {
    const Json* v = find_dotted(j, key);
    rows.emplace_back(key, v->is_string() ? v->get<std::string>() : v->dump());
  }
  return rows;
}

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

Json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw bad_input(path + ": cannot open file");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  if (is_yaml_path(path)) return Json(parse_yaml(text, path));
  return parse_json_text<Json>(text, path);
}

}  // namespace hcx::config
