// The status of a run, as the runs table stores it (runs.status, one of the
// six names its CHECK constraint allows: store/schema.h). Everything that
// decides on a status compares this enum; the text appears only where a row
// is written or read (store/) and where a status is printed. Header-only and
// torch-free, like error.h: grid/, exec/, store/, train/ and report/ all use it.
#pragma once

#include <optional>
#include <string_view>

namespace hcx {

enum class RunStatus {
  kPending,      // registered, never started (or reset for a retry)
  kRunning,      // claimed by a process that heartbeats
  kCompleted,    // trained all its steps
  kFailed,       // an error ended it (the row's error says which)
  kDiverged,     // a non-finite loss, gradient or weight ended it
  kInterrupted,  // stopped by a signal after a checkpoint; resumes next time
};

// "pending", "running", "completed", "failed", "diverged", "interrupted".
constexpr const char* to_string(RunStatus s) {
  switch (s) {
    case RunStatus::kPending: return "pending";
    case RunStatus::kRunning: return "running";
    case RunStatus::kCompleted: return "completed";
    case RunStatus::kFailed: return "failed";
    case RunStatus::kDiverged: return "diverged";
    case RunStatus::kInterrupted: return "interrupted";
  }
  return "failed";
}

// The status named `text`, or nullopt for any other text.
inline std::optional<RunStatus> parse_run_status(std::string_view text) {
  for (RunStatus s : {RunStatus::kPending, RunStatus::kRunning, RunStatus::kCompleted, RunStatus::kFailed,
                      RunStatus::kDiverged, RunStatus::kInterrupted}) {
    if (text == to_string(s)) return s;
  }
  return std::nullopt;
}

// Failed or diverged: the run ended without a result and is retried only on
// request (hcx sweep --retry-failed).
constexpr bool is_failure(RunStatus s) { return s == RunStatus::kFailed || s == RunStatus::kDiverged; }

}  // namespace hcx
