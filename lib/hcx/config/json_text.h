// JSON text with // and /* */ comments, parsed once: run config files
// (run_config.cpp) and experiment files (grid/experiment.cpp) read JSON the
// same way and name a syntax error the same way.
#pragma once

#include <string>

#include "hcx/error.h"

namespace hcx::config {

// Parses `text` into J (nlohmann::json or ordered_json; nlohmann 3.11 strips
// the comments itself). Throws Error(kBadInput) "SOURCE: invalid JSON: ..."
// with nlohmann's line and column on a syntax error.
template <class J>
J parse_json_text(const std::string& text, const std::string& source) {
  try {
    return J::parse(text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const typename J::parse_error& e) {
    throw Error(ErrorKind::kBadInput, source + ": invalid JSON: " + e.what());
  }
}

}  // namespace hcx::config
