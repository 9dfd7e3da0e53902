// Run-config key facts for the grid, derived from config::known_keys() and the
// defaults, so a key added to the run config is known here at once.
#include "hcx/grid/keys.h"

#include <set>
#include <vector>

#include "hcx/config/run_config.h"
#include "hcx/util/text.h"

namespace hcx::grid {
namespace {

struct KeySets {
  std::set<std::string> leaves, prefixes, lists;
  std::vector<std::string> all;  // leaves and prefixes, for suggestions
};

const KeySets& key_sets() {
  static const KeySets sets = [] {
    KeySets s;
    const config::Json defaults = config::to_json(config::RunConfig{});
    for (const auto& key : config::known_keys()) {
      s.leaves.insert(key);
      for (size_t pos = key.find('.'); pos != std::string::npos; pos = key.find('.', pos + 1))
        s.prefixes.insert(key.substr(0, pos));
      const config::Json* v = &defaults;
      for (size_t start = 0;;) {
        const size_t dot = key.find('.', start);
        v = &(*v)[key.substr(start, dot == std::string::npos ? std::string::npos : dot - start)];
        if (dot == std::string::npos) break;
        start = dot + 1;
      }
      if (v->is_array()) s.lists.insert(key);
    }
    s.all.assign(s.leaves.begin(), s.leaves.end());
    s.all.insert(s.all.end(), s.prefixes.begin(), s.prefixes.end());
    return s;
  }();
  return sets;
}

}  // namespace

bool is_known_key(const std::string& key) { return key_sets().leaves.count(key) > 0; }
bool is_key_prefix(const std::string& key) { return key_sets().prefixes.count(key) > 0; }
bool is_list_key(const std::string& key) { return key_sets().lists.count(key) > 0; }

std::string unknown_key_message(const std::string& key) {
  std::string msg = key + ": unknown key";
  msg += util::did_you_mean(config::nearest(key, key_sets().all));
  return msg;
}

}  // namespace hcx::grid
