// Whether output to a file descriptor may carry colour: only a terminal, and
// only while NO_COLOR (https://no-color.org) is unset or empty. One rule for
// the tables, the sweep plan and the log lines alike.
#pragma once

#include <unistd.h>

#include <cstdlib>

namespace hcx {

inline bool no_color_requested() {
  const char* v = std::getenv("NO_COLOR");
  return v != nullptr && *v != '\0';
}

inline bool color_allowed(int fd) { return ::isatty(fd) == 1 && !no_color_requested(); }

}  // namespace hcx
