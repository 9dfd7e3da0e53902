// What the grid needs to know about run-config keys: which dotted keys exist,
// which are prefixes of others ("residual"), which hold lists (eval.tasks),
// and the "unknown key" message with the nearest known one. Torch-free.
#pragma once

#include <string>

namespace hcx::grid {

bool is_known_key(const std::string& key);   // a leaf: "train.lr", "seed", "eval.tasks"
bool is_key_prefix(const std::string& key);  // "train", "residual"
bool is_list_key(const std::string& key);    // a leaf whose value is a list

// "<key>: unknown key (did you mean '<nearest>'?)"; the hint only when one is close.
std::string unknown_key_message(const std::string& key);

}  // namespace hcx::grid
