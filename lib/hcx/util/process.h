// Running a program to completion and capturing what it prints (POSIX): the
// SentencePiece helper hcx-spm (data/tokenizer.cpp) and the Slurm client
// commands (slurm/client.cpp). Long-lived children with their own
// signals and logs (a sweep's runs, a Slurm task's run) are started by their
// executors instead (exec/local_executor.cpp, slurm/task.cpp).
#pragma once

#include <string>
#include <vector>

namespace hcx::util {

struct ProcessResult {
  int exit_code = -1;  // the child's exit status; 128 + N when killed by signal N
  std::string out;     // its stdout (and its stderr, interleaved as written, with kMerged)
  std::string err;     // its stderr with kSeparate; empty with kMerged
};

enum class StderrTo { kMerged, kSeparate };

// Runs argv[0] (a path: PATH is not searched) with `argv`, no shell, stdin
// from /dev/null, and waits for it. Throws Error(kIo) "cannot run PROGRAM:
// <reason>" when it cannot be started (posix_spawn reports a failed exec
// too). Safe to call from several threads: the pipes are close-on-exec.
ProcessResult run_process(const std::vector<std::string>& argv, StderrTo stderr_to = StderrTo::kMerged);

// The path of this process's executable (/proc/self/exe): the hcx that a
// sweep's runs and a Slurm task's run start. Throws Error(kIo) when unknown.
std::string self_executable();

}  // namespace hcx::util
