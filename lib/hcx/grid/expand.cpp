// Grid expansion (see expand.h): product, exclude, include, validation,
// ids and duplicates. Exclusion is decided on the merged JSON before
// validation, so an exclude can remove combinations that would be invalid.
#include "hcx/grid/expand.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "hcx/config/inputs.h"
#include "hcx/error.h"
#include "hcx/grid/identity.h"
#include "hcx/grid/keys.h"
#include "hcx/grid/variant.h"

namespace hcx::grid {
namespace {

using config::Json;

constexpr size_t kMaxPoints = 100000;  // a typo like "seeds": 100000 should not hang

struct Point {
  Assignments assignments;
  std::vector<std::string> conflicts;  // "<key>: set by both axis 'a' and axis 'b'"
};

// Adds `choice` (from axis `axis`) to `p`, recording keys set twice.
void merge(Point& p, std::map<std::string, std::string>& owner, const Assignments& choice, const std::string& axis) {
  for (const auto& [key, value] : choice) {
    auto [it, fresh] = owner.emplace(key, axis);
    if (!fresh) {
      p.conflicts.push_back(key + ": set by both axis '" + it->second + "' and axis '" + axis + "'");
      continue;
    }
    p.assignments.emplace_back(key, value);
  }
}

std::vector<Point> product(const std::vector<Axis>& axes, const std::string& source) {
  size_t total = 1;
  for (const auto& a : axes) {
    total *= std::max<size_t>(a.choices.size(), 1);
    if (total > kMaxPoints)
      throw bad_input(source + ": the grid has more than " + std::to_string(kMaxPoints) + " points");
  }
  struct Partial {
    Point point;
    std::map<std::string, std::string> owner;
  };
  std::vector<Partial> out(1);
  for (const auto& axis : axes) {
    std::vector<Partial> next;
    for (const auto& partial : out) {
      for (const auto& choice : axis.choices) {
        Partial p = partial;
        merge(p.point, p.owner, choice, axis.name);
        next.push_back(std::move(p));
      }
    }
    out = std::move(next);
  }
  std::vector<Point> points;
  for (auto& p : out) points.push_back(std::move(p.point));
  return points;
}

Json merged_json(const Json& base, const Assignments& a) {
  Json j = base;
  for (const auto& [key, value] : a) config::set_dotted(j, key, value);
  return j;
}

const Json* find_dotted(const Json& j, const std::string& key) {
  const Json* cur = &j;
  for (size_t start = 0;;) {
    const size_t dot = key.find('.', start);
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (it == cur->end()) return nullptr;
    cur = &*it;
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

// True when the point (defaults patched with `j`) matches every key of `ex`.
bool matches(const Json& j, const Assignments& ex) {
  static const Json defaults = config::to_json(config::RunConfig{});
  Json full = defaults;
  full.merge_patch(j);
  for (const auto& [key, want] : ex) {
    const Json* have = find_dotted(full, key);
    if (!have) return false;
    const bool any_of = want.is_array() && !(is_list_key(key) && !want.empty() && !want.front().is_array());
    if (any_of) {
      if (std::find(want.begin(), want.end(), *have) == want.end()) return false;
    } else if (*have != want) {
      return false;
    }
  }
  return true;
}

std::string show_value(const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::vector<std::string> varying_keys(const std::vector<Point>& points) {
  std::vector<std::string> order;
  std::map<std::string, std::set<std::string>> values;  // key -> distinct dumps ("" = absent)
  for (const auto& p : points)
    for (const auto& [key, v] : p.assignments)
      if (!values.count(key)) {
        order.push_back(key);
        values[key];
      }
  for (const auto& p : points) {
    for (const auto& key : order) {
      auto it = std::find_if(p.assignments.begin(), p.assignments.end(),
                             [&](const auto& kv) { return kv.first == key; });
      values[key].insert(it == p.assignments.end() ? "" : "=" + it->second.dump());
    }
  }
  std::vector<std::string> varying;
  for (const auto& key : order)
    if (values[key].size() > 1) varying.push_back(key);
  return varying;
}

std::vector<std::string> errors_of(const Json& j, config::RunConfig& out) {
  std::vector<std::string> errors;
  out = config::from_json(j, errors);
  return errors;
}

}  // namespace

std::string point_label(const Assignments& point, const std::vector<std::string>& varying) {
  std::string label;
  for (const auto& [k, v] : point) {
    if (std::find(varying.begin(), varying.end(), k) != varying.end())
      label += (label.empty() ? "" : " ") + k + "=" + show_value(v);
  }
  return label;
}

Expansion expand(const ExperimentSpec& spec) {
  Expansion ex;
  ex.source = spec.source;
  ex.name = spec.name;
  ex.description = spec.description;
  ex.spec_json = spec.spec_json;

  std::vector<Point> points;
  for (auto& p : product(spec.axes, spec.source)) {
    if (std::any_of(spec.exclude.begin(), spec.exclude.end(),
                    [&](const Assignments& e) { return matches(merged_json(spec.base, p.assignments), e); })) {
      ++ex.excluded;
      continue;
    }
    points.push_back(std::move(p));
  }
  const Axis* seed_axis = nullptr;
  for (const auto& a : spec.axes)
    if (a.name == "seed" && spec.has_seeds) seed_axis = &a;
  for (const auto& inc : spec.include) {
    const bool sets_seed = std::any_of(inc.begin(), inc.end(), [](const auto& kv) { return kv.first == "seed"; });
    if (!seed_axis || sets_seed) {
      points.push_back({inc, {}});
      continue;
    }
    for (const auto& s : seed_axis->choices) {
      Point p{inc, {}};
      p.assignments.insert(p.assignments.end(), s.begin(), s.end());
      points.push_back(std::move(p));
    }
  }
  ex.points = points.size();
  if (points.empty())
    throw bad_input(spec.source + ": the grid is empty (" + std::to_string(ex.excluded) +
                    " points, every one excluded)");
  ex.varying_keys = varying_keys(points);

  // Validate every point; an error the base alone has and every point shares
  // is reported once, as the base's.
  std::vector<std::vector<std::string>> point_errors(points.size());
  std::vector<config::RunConfig> configs(points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    point_errors[i] = points[i].conflicts;
    for (auto& e : errors_of(merged_json(spec.base, points[i].assignments), configs[i]))
      point_errors[i].push_back(std::move(e));
  }
  config::RunConfig unused;
  std::vector<std::string> errors;
  for (const auto& e : errors_of(spec.base, unused)) {
    const bool everywhere = std::all_of(point_errors.begin(), point_errors.end(), [&](const auto& pe) {
      return std::find(pe.begin(), pe.end(), e) != pe.end();
    });
    if (!everywhere) continue;
    errors.push_back(spec.source + ": base: " + e);
    for (auto& pe : point_errors) pe.erase(std::remove(pe.begin(), pe.end(), e), pe.end());
  }
  for (size_t i = 0; i < points.size(); ++i) {
    const std::string label = point_label(points[i].assignments, ex.varying_keys);
    const std::string where =
        spec.source + ": point " + std::to_string(i + 1) + (label.empty() ? "" : " (" + label + ")") + ": ";
    for (const auto& e : point_errors[i]) errors.push_back(where + e);
  }
  if (!errors.empty()) {
    std::string msg;
    for (const auto& e : errors) msg += (msg.empty() ? "" : "\n") + e;
    throw bad_input(msg);
  }

  std::set<std::string> seen;
  for (size_t i = 0; i < points.size(); ++i) {
    ExpandedRun run;
    run.config = configs[i];
    config::resolve_input_paths(run.config, std::filesystem::path(spec.source).parent_path());  // like `base`
    run.id = run_id(run.config);
    if (!seen.insert(run.id).second) {
      ++ex.duplicates;
      continue;
    }
    run.config_json = canonical_json(run.config);
    run.point = points[i].assignments;
    run.label = point_label(run.point, ex.varying_keys);
    run.variant = variant_name(run.config);
    ex.runs.push_back(std::move(run));
  }
  return ex;
}

}  // namespace hcx::grid
