// Reading what a running job writes to its log: `hcx-progress` lines for the
// live display, and the last lines of a log for error messages. Torch-free.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "hcx/exec/executor.h"

namespace hcx::exec {

// Parses "hcx-progress step=S/N loss=L tokens_per_s=T eta_s=E" found anywhere
// in `line` (fields in any order, unknown ones ignored, missing ones NaN).
// nullopt when the line holds no such record or no step.
std::optional<Progress> parse_progress(std::string_view line);

// Follows a growing log file and remembers the latest progress record.
// Reads at most the last `max_read` new bytes per poll, so a chatty job
// cannot stall the sweep.
class LogFollower {
 public:
  explicit LogFollower(std::filesystem::path path, size_t max_read = 1 << 16);
  // Starts reading at the current end of the file (skips earlier attempts).
  void skip_to_end();
  // Reads what was appended since the last call; true when a new progress
  // record was found (then latest() holds it).
  bool poll();
  const std::optional<Progress>& latest() const { return latest_; }

 private:
  std::filesystem::path path_;
  size_t max_read_;
  uint64_t offset_ = 0;
  std::string partial_;  // an unfinished last line
  std::optional<Progress> latest_;
};

// The last `max_lines` non-empty lines of `path` that are neither progress
// records nor the executor's "==== " markers, joined by "\n" ("" when the
// file is missing). For error messages.
std::string log_tail(const std::filesystem::path& path, size_t max_lines = 8);

}  // namespace hcx::exec
