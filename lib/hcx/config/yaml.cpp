// YAML to JSON (see yaml.h), on yaml-cpp's node tree.
#include "hcx/config/yaml.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>

#include "hcx/error.h"

namespace hcx::config {
namespace {

using Ordered = nlohmann::ordered_json;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

Error at(const std::string& source, const YAML::Mark& m, const std::string& what) {
  return bad_input(source + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1) +
                   ": invalid YAML: " + what);
}

Ordered scalar(const YAML::Node& n, const std::string& source) {
  const std::string& text = n.Scalar();
  const std::string& tag = n.Tag();
  if (tag == "!" || tag == "tag:yaml.org,2002:str") return text;  // quoted, or !!str
  if (tag != "?" && !tag.empty()) throw at(source, n.Mark(), "tag " + tag + " is not supported");
  const std::string l = lower(text);
  if (l.empty() || l == "~" || l == "null") return nullptr;
  if (l == "true") return true;
  if (l == "false") return false;
  if (!text.empty() && (std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '-' || text[0] == '.')) {
    const Ordered number = Ordered::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!number.is_discarded() && number.is_number()) return number;
  }
  return text;
}

Ordered convert(const YAML::Node& n, const std::string& source) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar:
      return scalar(n, source);
    case YAML::NodeType::Sequence: {
      Ordered a = Ordered::array();
      for (const auto& item : n) a.push_back(convert(item, source));
      return a;
    }
    case YAML::NodeType::Map: {
      Ordered o = Ordered::object();
      for (const auto& kv : n) {
        const YAML::Node& key = kv.first;
        if (!key.IsScalar()) throw at(source, key.Mark(), "a key must be a plain string");
        const std::string& k = key.Scalar();
        if (k == "<<" && key.Tag() != "!") throw at(source, key.Mark(), "merge keys (<<) are not supported");
        if (o.contains(k)) throw at(source, key.Mark(), "duplicate key \"" + k + "\"");
        o[k] = convert(kv.second, source);
      }
      return o;
    }
    case YAML::NodeType::Undefined:
      break;
  }
  return nullptr;
}

}  // namespace

bool is_yaml_path(const std::string& path) {
  const std::string l = lower(path);
  auto ends = [&](const std::string& s) { return l.size() >= s.size() && l.compare(l.size() - s.size(), s.size(), s) == 0; };
  return ends(".yaml") || ends(".yml");
}

Ordered parse_yaml(const std::string& text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw at(source, e.mark, e.msg);
  }
  if (!root.IsMap()) throw bad_input(source + ": expected a mapping at the top");
  return convert(root, source);
}

}  // namespace hcx::config
