// Run selection by parameters (see select.h).
#include "hcx/report/select.h"

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "hcx/config/run_config.h"
#include "hcx/error.h"
#include "hcx/util/text.h"

namespace hcx::report {
namespace {

std::optional<double> as_number(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

Assignment parse_assignment(const std::string& text, const std::string& flag) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw bad_input(flag + " " + text + ": expected key=value, e.g. residual.kind=pre_norm");
  }
  return {text.substr(0, eq), text.substr(eq + 1)};
}

bool same_value(const std::string& a, const std::string& b) {
  if (a == b) return true;
  const auto x = as_number(a), y = as_number(b);
  return x && y && *x == *y;
}

bool value_less(const std::string& a, const std::string& b) {
  const auto x = as_number(a), y = as_number(b);
  if (x && y) return *x < *y || (*x == *y && a < b);
  if (x || y) return static_cast<bool>(x);  // numbers first
  return a < b;
}

bool matches(const std::map<std::string, std::string>& params, const std::vector<Assignment>& where) {
  for (const auto& [key, value] : where) {
    const auto it = params.find(key);
    if (it == params.end() || !same_value(it->second, value)) return false;
  }
  return true;
}

void check_keys(const std::vector<Assignment>& where, const std::vector<std::string>& known,
                const std::string& flag) {
  for (const auto& [key, value] : where) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    throw bad_input(flag + " " + key + ": unknown key" + util::did_you_mean(config::nearest(key, known)));
  }
}

}  // namespace hcx::report
