// Selecting and comparing runs by their parameters: `--where key=value`,
// `--baseline key=value`, and the ordering of parameter values. Values are
// the text of run_params (numbers in JSON spelling), compared as numbers when
// both sides are numbers, so `--where train.lr=1e-3` matches "0.001".
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace hcx::report {

using Assignment = std::pair<std::string, std::string>;

// Splits "key=value" at the first '='. Throws Error(kBadInput) naming `flag`
// when there is no '=' or the key is empty.
Assignment parse_assignment(const std::string& text, const std::string& flag);

// Equal as numbers when both parse completely as numbers, else as text.
bool same_value(const std::string& a, const std::string& b);

// Numbers before text, numbers by value, text lexicographically.
bool value_less(const std::string& a, const std::string& b);

// True when every assignment holds for `params` (a missing key never matches).
bool matches(const std::map<std::string, std::string>& params, const std::vector<Assignment>& where);

// Throws Error(kBadInput) for a key of `where` that no run has, suggesting
// the nearest of `known`: "--where trian.lr: unknown key (did you mean 'train.lr'?)".
void check_keys(const std::vector<Assignment>& where, const std::vector<std::string>& known,
                const std::string& flag);

}  // namespace hcx::report
