// Helpers for the data tests: the scratch directory (common/temp_dir.h, whose
// file() and write() name and write the small files) and error_of().
#pragma once

#include <string>

#include "common/temp_dir.h"
#include "hcx/error.h"

namespace hcx::data::testing {

using hcx::test::TempDir;  // the scratch directory

// The message of the hcx::Error that `f` throws, or "" (the test then fails on the comparison).
template <typename F>
std::string error_of(F&& f, ErrorKind* kind = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (kind) *kind = e.kind();
    return e.what();
  }
  return "";
}

}  // namespace hcx::data::testing
