// LibTorch's errors as one line for a person: c10::Error::what() appends a
// C++ stack trace of dozens of frames, which must reach neither the log nor
// runs.error. Header-only; include it where LibTorch exceptions are caught.
#pragma once

#include <exception>
#include <string>

#include <c10/util/Exception.h>

namespace hcx::train {

// The message of `e` without LibTorch's backtrace.
inline std::string message_of(const std::exception& e) {
  if (const auto* c = dynamic_cast<const c10::Error*>(&e)) return c->what_without_backtrace();
  return e.what();
}

}  // namespace hcx::train
