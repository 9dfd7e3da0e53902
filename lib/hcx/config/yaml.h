// YAML files read as the JSON they spell, so that a YAML experiment or run
// config means exactly what the same JSON does and is checked by the same
// code, with the same messages. Mappings become objects in file order,
// sequences arrays; a plain scalar is null (~, null, empty), a bool (true,
// false, any case), a number when JSON would read it as one (1e-3, -4, 0.5),
// otherwise a string; a quoted scalar is always a string. YAML 1.1's yes/no/
// on/off stay strings, as in YAML 1.2. Anchors and aliases expand; merge keys
// (<<) and tags other than !!str are refused.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace hcx::config {

// Whether `path` names a YAML file (.yaml or .yml, any case).
bool is_yaml_path(const std::string& path);

// Parses `text` (the contents of `source`). Throws Error(kBadInput)
// "<source>:<line>:<column>: invalid YAML: ..." on a syntax error, a
// duplicate key, a non-string key or a refused construct, lines and columns
// counted from 1; "<source>: expected a mapping at the top" when the
// document is not one.
nlohmann::ordered_json parse_yaml(const std::string& text, const std::string& source);

}  // namespace hcx::config
