// Task files (JSONL through a field mapping) and the run's list of tasks.
#include "hcx/data/tasks.h"

#include <algorithm>
#include <cctype>
#include <fstream>

#include <spdlog/spdlog.h>

#include "hcx/data/synthetic_tasks.h"
#include "hcx/error.h"

namespace hcx::data {

namespace {

using config::Json;

std::string type_name(const Json& j) {
  if (j.is_null()) return "null";
  if (j.is_boolean()) return "a boolean";
  if (j.is_number()) return "a number";
  if (j.is_string()) return "a string";
  if (j.is_array()) return "a list of " + std::to_string(j.size());
  return "an object";
}

// Reads fields of one JSONL line, naming file, line and field in errors.
struct LineReader {
  const std::string& path;
  int64_t line;
  const Json& obj;

  std::string where() const { return path + ":" + std::to_string(line) + ": "; }

  const Json& field(const std::string& name) const {
    auto it = obj.find(name);
    if (it == obj.end()) throw bad_input(where() + "missing field \"" + name + "\"");
    return *it;
  }

  std::string text(const std::string& name) const {
    const Json& v = field(name);
    if (!v.is_string()) throw bad_input(where() + "field \"" + name + "\": expected a string, got " + type_name(v));
    return v.get<std::string>();
  }

  std::vector<std::string> texts(const std::string& name) const {
    const Json& v = field(name);
    const bool ok = v.is_array() && v.size() >= 2 &&
                    std::all_of(v.begin(), v.end(), [](const Json& e) { return e.is_string(); });
    if (!ok) {
      std::string got = type_name(v);
      if (v.is_array() && v.size() >= 2) got = "a list holding " + type_name(*std::find_if(v.begin(), v.end(), [](const Json& e) {
                                                  return !e.is_string();
                                                }));
      throw bad_input(where() + "field \"" + name + "\": expected a list of at least 2 strings, got " + got);
    }
    return v.get<std::vector<std::string>>();
  }

  int64_t index(const std::string& name, size_t n) const {
    const Json& v = field(name);
    int64_t i = -1;
    bool ok = false;
    if (v.is_number_integer()) {
      i = v.get<int64_t>();
      ok = true;
    } else if (v.is_string()) {
      const auto s = v.get<std::string>();
      ok = !s.empty() && s.size() < 10 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
      if (ok) i = std::stoll(s);
    }
    if (!ok || i < 0 || i >= static_cast<int64_t>(n))
      throw bad_input(where() + "field \"" + name + "\": expected an integer from 0 to " + std::to_string(n - 1) +
                      ", got " + v.dump());
    return i;
  }
};

// " " + choice where the context needs a separator (see tasks.h).
std::string continuation(const std::string& context, const std::string& choice) {
  const auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  if (context.empty() || choice.empty() || space(context.back()) || space(choice.front())) return choice;
  return " " + choice;
}

}  // namespace

std::vector<TaskItem> read_task_items(const config::TaskSpec& spec) {
  const std::string& path = spec.path;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw bad_input(path + ": file not found");
  std::vector<TaskItem> items;
  std::string raw;
  int64_t seen = 0;  // non-blank lines so far, for spec.stride
  for (int64_t line = 1; std::getline(in, raw); ++line) {
    if (spec.limit > 0 && static_cast<int64_t>(items.size()) >= spec.limit) break;
    if (raw.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (seen++ % spec.stride != 0) continue;
    const std::string where = path + ":" + std::to_string(line) + ": ";
    Json obj;
    try {
      obj = Json::parse(raw);
    } catch (const Json::parse_error& e) {
      std::string msg = e.what();
      if (const auto at = msg.find("parse error"); at != std::string::npos) msg = msg.substr(at);
      throw bad_input(where + "not valid JSON (" + msg + ")");
    }
    const LineReader r{path, line, obj};
    if (!obj.is_object()) throw bad_input(where + "expected a JSON object");
    TaskItem item;
    item.line = line;
    if (spec.kind == "pairs") {
      item.choices = {r.text(spec.good_field), r.text(spec.bad_field)};
      item.label = 0;
    } else {
      item.context = r.text(spec.context_field);
      item.choices = r.texts(spec.choices_field);
      item.label = r.index(spec.label_field, item.choices.size());
      for (auto& c : item.choices) c = continuation(item.context, c);
    }
    items.push_back(std::move(item));
  }
  if (items.empty()) throw bad_input(path + ": no items");
  return items;
}

std::vector<EncodedItem> encode_items(const std::vector<TaskItem>& items, const Tokenizer& tok, int64_t vocab_size,
                                      const std::string& what) {
  std::vector<std::string> texts;
  for (const auto& item : items) {
    texts.push_back(item.context);
    texts.insert(texts.end(), item.choices.begin(), item.choices.end());
  }
  const auto ids = tok.encode(texts);
  std::vector<EncodedItem> out;
  size_t at = 0;
  for (size_t n = 0; n < items.size(); ++n) {
    const TaskItem& item = items[n];
    const std::string where = what + ": item " + std::to_string(n + 1) +
                              (item.line > 0 ? " (line " + std::to_string(item.line) + ")" : "") + ": ";
    EncodedItem e;
    e.label = item.label;
    e.context = ids[at++];
    if (e.context.empty()) e.context = tok.boundary();
    for (size_t c = 0; c < item.choices.size(); ++c) {
      e.choices.push_back(ids[at++]);
      e.choice_bytes.push_back(static_cast<int64_t>(item.choices[c].size()));
      if (e.choices.back().empty())
        throw bad_input(where + "choice " + std::to_string(c) + " is empty after tokenisation");
    }
    auto check = [&](const std::vector<int32_t>& seq) {
      for (int32_t id : seq)
        if (id >= vocab_size)
          throw bad_input(where + "token id " + std::to_string(id) + " is >= model.vocab_size " +
                          std::to_string(vocab_size));
    };
    check(e.context);
    for (const auto& c : e.choices) check(c);
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<Task> load_tasks(const config::RunConfig& cfg, const std::optional<Tokenizer>& tok) {
  const bool synthetic = cfg.data.source == "synthetic";
  const int64_t max_context = cfg.model.seq_len - 1;
  std::vector<Task> tasks;
  if (cfg.eval.tasks.empty()) {
    if (!synthetic) return tasks;
    if (max_context < kMinSyntheticTaskContext) {
      spdlog::warn("no built-in synthetic tasks: they need model.seq_len >= {}, got {}",
                   kMinSyntheticTaskContext + 1, cfg.model.seq_len);
      return tasks;
    }
    const SyntheticVocab vocab = synthetic_vocab(cfg.model.vocab_size);
    for (const auto& name : synthetic_task_names())
      tasks.push_back(synthetic_task(name, vocab, cfg.data.difficulty, max_context, kDefaultSyntheticItems));
    return tasks;
  }
  for (size_t i = 0; i < cfg.eval.tasks.size(); ++i) {
    const config::TaskSpec& spec = cfg.eval.tasks[i];
    const std::string what = "eval.tasks[" + std::to_string(i) + "] (" + spec.name + ")";
    try {
      if (spec.kind == "synthetic") {
        if (!synthetic) throw bad_input("kind \"synthetic\" needs data.source \"synthetic\", got \"" + cfg.data.source + "\"");
        tasks.push_back(synthetic_task(spec.name, synthetic_vocab(cfg.model.vocab_size), cfg.data.difficulty,
                                       max_context, spec.limit > 0 ? spec.limit : kDefaultSyntheticItems));
        continue;
      }
      if (!tok)
        throw bad_input("kind \"" + spec.kind + "\" needs a text tokenizer, but data.source is \"" + cfg.data.source +
                        "\"");
      Task task{spec.name, spec.kind, {}};
      task.items = encode_items(read_task_items(spec), *tok, cfg.model.vocab_size, spec.path);
      tasks.push_back(std::move(task));
    } catch (const Error& e) {
      throw Error(e.kind(), what + ": " + e.what());
    }
  }
  return tasks;
}

}  // namespace hcx::data
