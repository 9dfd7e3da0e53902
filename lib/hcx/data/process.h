// Running a helper program as a child process (plain C++, POSIX): used to
// drive hcx-spm, which must stay out of hcx's address space (tokenizer.h).
#pragma once

#include <string>
#include <vector>

namespace hcx::data {

struct ProcessResult {
  int exit_code = -1;  // the child's exit status; 128 + N when killed by signal N
  std::string output;  // its stdout and stderr, interleaved as written
};

// Runs argv[0] (a path; PATH is not searched) with `argv`, no shell, and waits
// for it. Throws Error(kIo) "cannot run PROGRAM: <reason>" when it cannot be
// started. Safe to call from several threads.
ProcessResult run_process(const std::vector<std::string>& argv);

}  // namespace hcx::data
