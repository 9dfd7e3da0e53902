// Facts about this binary's build that change without a reconfigure (plain
// C++). The version and LibTorch are in the generated hcx/version.h; the
// source commit is written at every build by cmake/build_commit.cmake into a
// one-function library (hcx_build_info), so a new commit relinks but
// recompiles nothing else.
#pragma once

namespace hcx {

// The commit the sources of this binary were at when it was built: 40 hex
// digits, with "-dirty" appended when tracked files differed from it, or ""
// when the sources were not a git checkout (e.g. a source archive).
const char* build_commit();

}  // namespace hcx
