// Run config (de)serialisation. One table of fields, walked by visitors, gives
// parsing, printing, flattening and the list of known keys, so a new key is one
// line in visit_fields() plus its check in validate.cpp.
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
  v("model.moe_experts", c.model.moe_experts);
  v("model.moe_top_k", c.model.moe_top_k);
  v("model.moe_hidden", c.model.moe_hidden);
  v("model.moe_norm_topk", c.model.moe_norm_topk);
  v("model.moe_lb_weight", c.model.moe_lb_weight);
  v("model.moe_z_weight", c.model.moe_z_weight);
  v("model.moe_lb_convention", c.model.moe_lb_convention);
  v("model.moe_z_reduce", c.model.moe_z_reduce);
  v("residual.kind", c.residual.kind);
  v("residual.n", c.residual.n);
  v("residual.dynamic", c.residual.dynamic);
  v("residual.tanh", c.residual.tanh);
  v("residual.dynamic_norm", c.residual.dynamic_norm);
  v("residual.dynamic_scale", c.residual.dynamic_scale);
  v("residual.freeze_width", c.residual.freeze_width);
  v("residual.freeze_beta", c.residual.freeze_beta);
  v("residual.reduce", c.residual.reduce);
  v("residual.scale_out_init", c.residual.scale_out_init);
  v("residual.sinkhorn_iters", c.residual.sinkhorn_iters);
  v("residual.laurel_rank", c.residual.laurel_rank);
  v("residual.dwa_dilation", c.residual.dwa_dilation);
  v("residual.dwa_period", c.residual.dwa_period);
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
