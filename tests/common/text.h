// count_of(): how many times a piece of text occurs in a command's output,
// a page or a log, for the tests that count lines, charts or markers.
#pragma once

#include <cstddef>
#include <string>

namespace hcx::test {

// The number of places `what` starts in `text`, overlapping ones included
// ("aa" occurs twice in "aaa").
inline size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace hcx::test
