// Experiment file parsing: top-level keys, axes, zips, includes, excludes,
// seeds and -s overrides into an ExperimentSpec (format in experiment.h).
// File order is kept (ordered_json) so that the plan follows the file.
#include "hcx/grid/experiment.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "hcx/config/json_text.h"
#include "hcx/config/yaml.h"
#include "hcx/error.h"
#include "hcx/grid/identity.h"
#include "hcx/grid/keys.h"
#include "hcx/util/text.h"

namespace hcx::grid {
namespace {

using config::Json;
using Ordered = nlohmann::ordered_json;

const std::vector<std::string> kTopLevelKeys = {"name", "description", "base", "grid",
                                                "zip",  "include",     "exclude", "seeds"};

Json plain(const Ordered& o) { return Json::parse(o.dump()); }

std::string show(const Ordered& j) {
  std::string s = j.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

// Flattens nested objects into (dotted key, value), stopping at known leaves.
void flatten(const Ordered& obj, const std::string& prefix, std::vector<std::pair<std::string, Ordered>>& out) {
  for (const auto& [k, v] : obj.items()) {
    const std::string key = prefix.empty() ? k : prefix + "." + k;
    if (v.is_object() && !is_known_key(key)) {
      flatten(v, key, out);
    } else {
      out.emplace_back(key, v);
    }
  }
}

// The alternatives a value stands for: a list's elements, except for a
// list-valued key whose list is one value unless it is a list of lists.
std::vector<Ordered> alternatives(const std::string& key, const Ordered& v) {
  if (!v.is_array()) return {v};
  if (is_list_key(key) && !std::all_of(v.begin(), v.end(), [](const Ordered& e) { return e.is_array(); }))
    return {v};
  return std::vector<Ordered>(v.begin(), v.end());
}

// Every combination of one alternative per key, the first key outermost.
std::vector<Assignments> product(const std::vector<std::pair<std::string, std::vector<Ordered>>>& options) {
  std::vector<Assignments> out = {{}};
  for (const auto& [key, alts] : options) {
    std::vector<Assignments> next;
    for (const auto& partial : out) {
      for (const auto& alt : alts) {
        Assignments a = partial;
        a.emplace_back(key, plain(alt));
        next.push_back(std::move(a));
      }
    }
    out = std::move(next);
  }
  return out;
}

// Expands an object value of axis `axis` into the points it stands for.
std::vector<Assignments> expand_object(const Ordered& obj, const std::string& axis, const std::string& where,
                                       std::vector<std::string>& errors) {
  std::vector<std::pair<std::string, Ordered>> flat;
  flatten(obj, "", flat);
  std::vector<std::pair<std::string, std::vector<Ordered>>> options;
  for (auto& [key, v] : flat) {
    if (!is_known_key(key) && is_known_key(axis + "." + key)) key = axis + "." + key;
    auto alts = alternatives(key, v);
    if (alts.empty()) {
      errors.push_back(where + "." + key + ": expected at least one value, got []");
      continue;
    }
    options.emplace_back(key, std::move(alts));
  }
  return product(options);
}

// The choices of one axis from its raw value (a list of values, or one value).
std::vector<Assignments> axis_choices(const std::string& axis, const Ordered& raw, const std::string& where,
                                      std::vector<std::string>& errors) {
  std::vector<Assignments> choices;
  const std::vector<Ordered> values = alternatives(axis, raw);
  if (values.empty()) errors.push_back(where + ": expected at least one value, got []");
  bool reported_unknown = false;
  for (size_t i = 0; i < values.size(); ++i) {
    const Ordered& v = values[i];
    if (v.is_object() && !is_known_key(axis)) {
      for (auto& a : expand_object(v, axis, where + "[" + std::to_string(i) + "]", errors))
        choices.push_back(std::move(a));
    } else if (is_known_key(axis)) {
      choices.push_back({{axis, plain(v)}});
    } else if (!reported_unknown) {
      reported_unknown = true;
      errors.push_back(where + ": " + unknown_key_message(axis).substr(axis.size() + 2) +
                       "; an axis that is not a config key takes objects, got " + show(v));
    }
  }
  return choices;
}

// One zip group: lists of equal length that advance together.
void parse_zip_group(const Ordered& group, const std::string& where, ExperimentSpec& spec,
                     std::vector<std::string>& errors) {
  if (!group.is_object() || group.empty()) {
    errors.push_back(where + ": expected an object of equally long lists, got " + show(group));
    return;
  }
  std::vector<std::pair<std::string, std::vector<Assignments>>> columns;
  size_t length = 0;
  std::string first_key, name;
  for (const auto& [key, values] : group.items()) {
    if (!values.is_array()) {
      errors.push_back(where + "." + key + ": expected a list, got " + show(values));
      return;
    }
    if (columns.empty()) {
      length = values.size();
      first_key = key;
    } else if (values.size() != length) {
      errors.push_back(where + ": lists differ in length (" + first_key + " has " + std::to_string(length) + ", " +
                       key + " has " + std::to_string(values.size()) + ")");
      return;
    }
    name += (name.empty() ? "" : ",") + key;
    std::vector<Assignments> column;
    for (size_t i = 0; i < values.size(); ++i) {
      const std::string at = where + "." + key + "[" + std::to_string(i) + "]";
      auto choices = axis_choices(key, Ordered::array({values[i]}), at, errors);
      if (choices.size() != 1) {
        errors.push_back(at + ": a zipped value must be one point, got " + std::to_string(choices.size()));
        return;
      }
      column.push_back(std::move(choices.front()));
    }
    columns.emplace_back(key, std::move(column));
  }
  Axis axis{"zip(" + name + ")", {}};
  for (size_t i = 0; i < length; ++i) {
    Assignments a;
    for (const auto& [key, column] : columns) a.insert(a.end(), column[i].begin(), column[i].end());
    axis.choices.push_back(std::move(a));
  }
  if (length == 0) errors.push_back(where + ": expected at least one value, got []");
  spec.axes.push_back(std::move(axis));
}

std::vector<Json> parse_seeds(const Ordered& raw, const std::string& where, std::vector<std::string>& errors) {
  std::vector<Json> seeds;
  if (raw.is_number_integer() && raw.get<int64_t>() >= 1) {
    for (int64_t s = 0; s < raw.get<int64_t>(); ++s) seeds.emplace_back(s);
  } else if (raw.is_array() && !raw.empty() &&
             std::all_of(raw.begin(), raw.end(), [](const Ordered& s) { return s.is_number_integer() && s >= 0; })) {
    for (const auto& s : raw) seeds.emplace_back(s.get<int64_t>());
  } else {
    errors.push_back(where + ": expected a count N >= 1 (seeds 0..N-1) or a list of integers >= 0, got " +
                     show(raw));
  }
  return seeds;
}

// Partial configs, flattened; checks that every key exists.
std::vector<Assignments> parse_partials(const Ordered& raw, const std::string& where, bool expand_lists,
                                        std::vector<std::string>& errors) {
  std::vector<Assignments> out;
  if (!raw.is_array()) {
    errors.push_back(where + ": expected a list of partial configs, got " + show(raw));
    return out;
  }
  for (size_t i = 0; i < raw.size(); ++i) {
    const std::string at = where + "[" + std::to_string(i) + "]";
    if (!raw[i].is_object()) {
      errors.push_back(at + ": expected an object, got " + show(raw[i]));
      continue;
    }
    std::vector<std::pair<std::string, Ordered>> flat;
    flatten(raw[i], "", flat);
    for (const auto& [key, v] : flat)
      if (!is_known_key(key)) errors.push_back(at + ": " + unknown_key_message(key));
    if (expand_lists) {
      for (auto& a : expand_object(raw[i], "", at, errors)) out.push_back(std::move(a));
    } else {
      Assignments a;
      for (const auto& [key, v] : flat) a.emplace_back(key, plain(v));
      out.push_back(std::move(a));
    }
  }
  return out;
}

void strip_key(std::vector<Assignments>& points, const std::string& key) {
  for (auto& a : points)
    a.erase(std::remove_if(a.begin(), a.end(), [&](const auto& kv) { return kv.first == key; }), a.end());
}

// Splits at commas outside brackets, braces and quotes.
std::vector<std::string> split_top_level(const std::string& s) {
  std::vector<std::string> parts(1);
  int depth = 0;
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quoted) {
      if (c == '\\' && i + 1 < s.size()) parts.back() += s[i++];
      else if (c == '"') quoted = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (c == ',' && depth == 0) {
      parts.emplace_back();
      continue;
    }
    parts.back() += c;
  }
  return parts;
}

// A number of a range(...) argument list, or a message.
double range_number(const std::string& arg, const std::string& where) {
  const Json v = Json::parse(arg, nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded() || !v.is_number())
    throw bad_input(where + ": expected a number, got \"" + arg + "\"");
  return v.get<double>();
}

// A value of a range: an integer when every argument was one, else a real
// rounded to 12 significant digits, so that range(1e-4,1e-2,log,3) gives
// 1e-4, 1e-3, 1e-2 exactly (the same run ids as writing them out).
Json range_value(double v, bool integers) {
  if (integers) return static_cast<int64_t>(std::llround(v));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.12g", v);
  return Json::parse(buf).get<double>();
}

// The values of "range(...)" or "choice(...)" (see experiment.h), or nullopt
// when `raw` is neither.
std::optional<std::vector<Json>> sweep_function(const std::string& raw, const std::string& where) {
  if (raw.empty()) return std::nullopt;
  const size_t open = raw.find('(');
  if (open == std::string::npos || raw.back() != ')') return std::nullopt;  // raw is not empty here
  const std::string fn = raw.substr(0, open);
  if (fn != "range" && fn != "choice") return std::nullopt;
  std::vector<std::string> args = split_top_level(raw.substr(open + 1, raw.size() - open - 2));
  for (auto& a : args) {
    a.erase(0, a.find_first_not_of(' '));
    a.erase(a.find_last_not_of(' ') + 1);
  }
  const std::string at = where + ": " + raw;
  if (args.size() == 1 && args[0].empty()) args.clear();
  std::vector<Json> out;
  if (fn == "choice") {
    if (args.empty()) throw bad_input(at + ": choice() needs at least one value");
    for (const auto& a : args) out.push_back(config::parse_value(a));
    return out;
  }
  constexpr size_t kMaxValues = 10000;
  if (args.size() == 4) {  // range(start, stop, log|lin, count): both ends included
    const std::string& scale = args[2];
    if (scale != "log" && scale != "lin")
      throw bad_input(at + ": the third argument of a 4-argument range is log or lin, got \"" + scale + "\"");
    const double a = range_number(args[0], at), b = range_number(args[1], at);
    const Json count = Json::parse(args[3], nullptr, false);
    if (count.is_discarded() || !count.is_number_integer() || count.get<int64_t>() < 2 ||
        count.get<int64_t>() > static_cast<int64_t>(kMaxValues))
      throw bad_input(at + ": the count is an integer from 2 to " + std::to_string(kMaxValues) + ", got \"" +
                      args[3] + "\"");
    if (scale == "log" && (a <= 0 || b <= 0))
      throw bad_input(at + ": a log range needs start and stop above 0");
    const int64_t n = count.get<int64_t>();
    for (int64_t i = 0; i < n; ++i) {
      const double t = static_cast<double>(i) / static_cast<double>(n - 1);
      out.push_back(range_value(scale == "log" ? std::exp(std::log(a) + t * (std::log(b) - std::log(a)))
                                               : a + t * (b - a),
                                false));
    }
    return out;
  }
  if (args.empty() || args.size() > 3)
    throw bad_input(at + ": expected range(stop), range(start,stop), range(start,stop,step) or "
                    "range(start,stop,log|lin,count)");
  std::vector<double> v;
  bool integers = true;
  for (const auto& a : args) {
    v.push_back(range_number(a, at));
    integers = integers && Json::parse(a).is_number_integer();
  }
  const double start = v.size() == 1 ? 0.0 : v[0], stop = v.size() == 1 ? v[0] : v[1];
  const double step = v.size() == 3 ? v[2] : 1.0;
  if (step == 0) throw bad_input(at + ": the step must not be 0");
  // Python's and Hydra's range: stop excluded. The count is computed once so
  // that rounding of start + i * step cannot add or drop the last value.
  const double span = (stop - start) / step;
  const double n = span <= 0 ? 0 : std::ceil(span - 1e-9 * std::max(1.0, std::abs(span)));
  if (n < 1) throw bad_input(at + ": the range holds no value");
  if (n > static_cast<double>(kMaxValues))
    throw bad_input(at + ": the range holds more than " + std::to_string(kMaxValues) + " values");
  for (int64_t i = 0; i < static_cast<int64_t>(n); ++i)
    out.push_back(range_value(start + static_cast<double>(i) * step, integers));
  return out;
}

}  // namespace

std::string sweep_name(const std::string& name, const std::vector<std::string>& overrides) {
  std::string suffix;
  for (const auto& text : overrides) {
    const std::string key = text.substr(0, text.find('='));
    if (outside_identity(key)) continue;  // placement, disk use: the same runs
    suffix += '@';
    for (const char c : text) suffix += std::isalnum(static_cast<unsigned char>(c)) || std::strchr("._=,+-()", c) ? c : '_';
  }
  constexpr size_t kMaxSuffix = 80;
  if (suffix.size() > kMaxSuffix) {
    char hash[20];
    std::snprintf(hash, sizeof hash, "~%08llx", static_cast<unsigned long long>(fnv1a64(suffix) & 0xffffffffULL));
    suffix = suffix.substr(0, kMaxSuffix - 9) + hash;
  }
  return name + suffix;
}

Override parse_override(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw bad_input("-s " + text + ": expected key=value or key=v1,v2,...");
  Override o;
  o.key = text.substr(0, eq);
  const std::string raw = text.substr(eq + 1);
  if (auto values = sweep_function(raw, "-s " + o.key)) {
    o.values = std::move(*values);
    return o;
  }
  const Json whole = Json::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (!whole.is_discarded()) {
    o.values.push_back(whole);
    return o;
  }
  for (const auto& part : split_top_level(raw)) o.values.push_back(config::parse_value(part));
  return o;
}

namespace {

ExperimentSpec parse_document(const Ordered& doc, const std::string& source,
                              const std::vector<std::string>& overrides) {
  std::vector<std::string> errors;
  ExperimentSpec spec;
  spec.source = source;
  spec.spec_json = {{"source", source}, {"experiment", plain(doc)}, {"overrides", overrides}};
  spec.name = std::filesystem::path(source).stem().string();

  for (const auto& [key, value] : doc.items()) {
    if (std::find(kTopLevelKeys.begin(), kTopLevelKeys.end(), key) != kTopLevelKeys.end()) continue;
    std::string msg = key + ": unknown key";
    msg += util::did_you_mean(config::nearest(key, kTopLevelKeys));
    errors.push_back(msg);
  }
  if (doc.contains("name")) {
    if (doc["name"].is_string() && !doc["name"].get<std::string>().empty()) {
      spec.name = doc["name"].get<std::string>();
    } else {
      errors.push_back("name: expected a non-empty string, got " + show(doc["name"]));
    }
  }
  if (doc.contains("description")) {
    if (doc["description"].is_string()) {
      spec.description = doc["description"].get<std::string>();
    } else {
      errors.push_back("description: expected a string, got " + show(doc["description"]));
    }
  }
  if (doc.contains("base")) {
    const Ordered& b = doc["base"];
    try {
      if (b.is_string()) {
        std::filesystem::path p = b.get<std::string>();
        if (p.is_relative()) p = std::filesystem::path(source).parent_path() / p;
        spec.base = config::expand_dotted(config::read_json_file(p.string()));
      } else if (b.is_object()) {
        spec.base = config::expand_dotted(plain(b));
      } else {
        errors.push_back("base: expected a run config object or a file path, got " + show(b));
      }
    } catch (const Error& e) {
      errors.push_back(std::string("base: ") + e.what());
    }
  }
  if (doc.contains("grid")) {
    if (doc["grid"].is_object()) {
      for (const auto& [axis, values] : doc["grid"].items())
        spec.axes.push_back({axis, axis_choices(axis, values, "grid." + axis, errors)});
    } else {
      errors.push_back("grid: expected an object of axes, got " + show(doc["grid"]));
    }
  }
  if (doc.contains("zip")) {
    const Ordered& z = doc["zip"];
    if (z.is_array()) {
      for (size_t i = 0; i < z.size(); ++i) parse_zip_group(z[i], "zip[" + std::to_string(i) + "]", spec, errors);
    } else {
      parse_zip_group(z, "zip", spec, errors);
    }
  }
  if (doc.contains("include")) spec.include = parse_partials(doc["include"], "include", true, errors);
  if (doc.contains("exclude")) spec.exclude = parse_partials(doc["exclude"], "exclude", false, errors);
  std::vector<Json> seeds;
  if (doc.contains("seeds")) seeds = parse_seeds(doc["seeds"], "seeds", errors);

  // Overrides, in command-line order; a later one on the same key wins.
  for (const auto& text : overrides) {
    Override o;
    try {
      o = parse_override(text);
    } catch (const Error& e) {
      errors.push_back(e.what());
      continue;
    }
    const std::string where = "-s " + text;
    if (o.key == "seeds") {
      Ordered raw = Ordered::array();
      for (const auto& v : o.values) raw.push_back(Ordered::parse(v.dump()));
      seeds = parse_seeds(raw.size() == 1 ? raw[0] : raw, where, errors);
      continue;
    }
    if (!is_known_key(o.key)) {
      errors.push_back(where + ": " + unknown_key_message(o.key));
      continue;
    }
    if (o.key == "seed") seeds.clear();  // -s seed=... wins over the file's seeds
    auto same_axis = [&](const Axis& a) { return a.name == o.key; };
    for (auto& a : spec.axes) strip_key(a.choices, o.key);
    strip_key(spec.include, o.key);
    spec.pinned.erase(std::remove(spec.pinned.begin(), spec.pinned.end(), o.key), spec.pinned.end());
    if (o.values.size() == 1) {
      spec.axes.erase(std::remove_if(spec.axes.begin(), spec.axes.end(), same_axis), spec.axes.end());
      config::set_dotted(spec.base, o.key, o.values.front());
      spec.pinned.push_back(o.key);
    } else {
      Axis axis{o.key, {}};
      for (const auto& v : o.values) axis.choices.push_back({{o.key, v}});
      auto it = std::find_if(spec.axes.begin(), spec.axes.end(), same_axis);
      if (it != spec.axes.end()) {
        *it = std::move(axis);
      } else {
        spec.axes.push_back(std::move(axis));
      }
    }
  }
  spec.name = sweep_name(spec.name, overrides);
  if (!seeds.empty()) {
    auto is_seed_axis = [](const Axis& a) { return a.name == "seed"; };
    if (std::any_of(spec.axes.begin(), spec.axes.end(), is_seed_axis)) {
      errors.push_back("seeds: the grid has an axis on seed too; use one of them");
    } else {
      Axis axis{"seed", {}};
      for (const auto& s : seeds) axis.choices.push_back({{"seed", s}});
      spec.axes.push_back(std::move(axis));
      spec.has_seeds = true;
    }
  }

  if (!errors.empty()) {
    std::string msg;
    for (const auto& e : errors) msg += (msg.empty() ? "" : "\n") + source + ": " + e;
    throw bad_input(msg);
  }
  return spec;
}

}  // namespace

ExperimentSpec parse_experiment(const std::string& text, const std::string& source,
                                const std::vector<std::string>& overrides) {
  const Ordered doc = config::parse_json_text<Ordered>(text, source);
  if (!doc.is_object()) throw bad_input(source + ": expected a JSON object");
  return parse_document(doc, source, overrides);
}

ExperimentSpec parse_yaml_experiment(const std::string& text, const std::string& source,
                                     const std::vector<std::string>& overrides) {
  return parse_document(config::parse_yaml(text, source), source, overrides);
}

ExperimentSpec load_experiment(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path);
  if (!in) throw bad_input(path + ": cannot open experiment file");
  std::stringstream ss;
  ss << in.rdbuf();
  return config::is_yaml_path(path) ? parse_yaml_experiment(ss.str(), path, overrides)
                                    : parse_experiment(ss.str(), path, overrides);
}

}  // namespace hcx::grid
