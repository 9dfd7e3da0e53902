// Running a program to completion and capturing what it prints (POSIX): the
// SentencePiece helper hcx-spm (data/tokenizer.cpp) and the Slurm client
// commands (slurm/client.cpp). Long-lived children with their own
// signals and logs (a sweep's runs, a Slurm task's run) are started by their
// executors instead (exec/local_executor.cpp, slurm/task.cpp).
#pragma once

#include <string>
#include <utility>
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

// ---------------------------------------------------------------------------- a training process's environment

// How long idle worker threads wait busily for more work, in hcx's training
// processes. LibTorch runs its own ops on libgomp's OpenMP threads, and
// Debian's LibTorch its float32 GEMMs on OpenBLAS's own pthreads: two pools
// on the same cores. At libgomp's default (300,000 spins, long ones on CPUs
// whose `pause` takes ~100 cycles) an idle OpenMP thread holds a core that
// OpenBLAS's next GEMM needs; at OpenBLAS's default (2^28 cycles of
// sched_yield) an idle OpenBLAS thread takes turns on a core that the next
// OpenMP op needs. Measured on the build machine, d 512, 2 threads
// (bench/README.md, "Thread pools"), on the Debian build: the spin count
// 1.15-1.29x the float32 tokens/s, the timeout then 1.17-1.18x the bf16
// tokens/s of DHC×4 and mHC×4 (their fp32 1.05-1.12x); Pre-Norm bf16 and the
// PyPI build (MKL on libgomp's threads) level.
inline constexpr const char* kGompSpinCount = "30000";
inline constexpr const char* kOpenblasThreadTimeout = "20";  // 2^20 cycles

using EnvVars = std::vector<std::pair<std::string, std::string>>;

// What a training process on `threads` CPU threads runs under: OMP_NUM_THREADS,
// OPENBLAS_NUM_THREADS and MKL_NUM_THREADS = threads (none when threads is 0:
// the run's config decides), GOMP_SPINCOUNT = kGompSpinCount unless this
// process's environment sets GOMP_SPINCOUNT or OMP_WAIT_POLICY, and
// OPENBLAS_THREAD_TIMEOUT = kOpenblasThreadTimeout unless it sets that (the
// user's choice wins).
EnvVars training_env(int threads);

// This process's environment with `set` applied (same-named entries replaced),
// as NAME=VALUE strings for execve.
std::vector<std::string> environ_with(const EnvVars& set);

// For `hcx run`, which trains in this very process: libgomp reads its spin
// count and OpenBLAS its timeout once, when they are loaded, so where
// training_env(0) would add either, this sets them and execs this program again with `argv` (same
// pid, same descriptors). Returns only when nothing was to be done or the exec
// failed (then training goes on at libgomp's default).
void reexec_with_training_env(char** argv);

}  // namespace hcx::util
