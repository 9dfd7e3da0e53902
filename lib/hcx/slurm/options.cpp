// Validation of the Slurm flags (see options.h).
#include "hcx/slurm/options.h"

#include <cctype>

#include "hcx/error.h"

namespace hcx::slurm {
namespace {

bool all_digits(const std::string& s) {
  if (s.empty() || s.size() > 9) return false;
  for (unsigned char c : s)
    if (!std::isdigit(c)) return false;
  return true;
}

// "a:b:c" into numbers; empty when a part is not a number.
std::vector<long> split_numbers(const std::string& s) {
  std::vector<long> out;
  size_t start = 0;
  while (true) {
    const size_t colon = s.find(':', start);
    const std::string part = s.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (!all_digits(part)) return {};
    out.push_back(std::stol(part));
    if (colon == std::string::npos) return out;
    start = colon + 1;
  }
}

}  // namespace

std::optional<long> parse_slurm_time(const std::string& s) {
  const size_t dash = s.find('-');
  if (dash != std::string::npos) {  // D-H, D-H:M, D-H:M:S
    const std::string days = s.substr(0, dash);
    const auto rest = split_numbers(s.substr(dash + 1));
    if (!all_digits(days) || rest.empty() || rest.size() > 3) return std::nullopt;
    long secs = std::stol(days) * 86400 + rest[0] * 3600;
    if (rest.size() > 1) secs += rest[1] * 60;
    if (rest.size() > 2) secs += rest[2];
    return secs;
  }
  const auto parts = split_numbers(s);  // M, M:S, H:M:S
  switch (parts.size()) {
    case 1: return parts[0] * 60;
    case 2: return parts[0] * 60 + parts[1];
    case 3: return parts[0] * 3600 + parts[1] * 60 + parts[2];
    default: return std::nullopt;
  }
}

void validate(const SlurmOptions& o) {
  if (o.cpus_per_task < 0) throw bad_input("--cpus-per-task: expected a positive number, got " + std::to_string(o.cpus_per_task));
  if (o.max_parallel < 0) throw bad_input("--max-parallel: expected 0 (no limit) or more, got " + std::to_string(o.max_parallel));
  if (o.max_requeues < 0) throw bad_input("--max-requeues: expected 0 or more, got " + std::to_string(o.max_requeues));
  if (o.signal_grace_s < 0 || o.signal_grace_s > 65535)
    throw bad_input("--signal-grace: expected seconds from 0 to 65535, got " + std::to_string(o.signal_grace_s));
  if (!(o.poll_s > 0)) throw bad_input("--poll: expected a positive number of seconds");
  if (!o.time.empty()) {
    const auto secs = parse_slurm_time(o.time);
    if (!secs || *secs <= 0)
      throw bad_input("--time: expected minutes, MM:SS, HH:MM:SS or D-HH:MM:SS (e.g. 04:00:00), got \"" + o.time + "\"");
    if (o.signal_grace_s > 0 && o.signal_grace_s >= *secs)
      throw bad_input("--signal-grace " + std::to_string(o.signal_grace_s) + " s must be shorter than --time " + o.time +
                      " (the warning comes that long before the time limit)");
  }
  if (!o.mem.empty()) {
    std::string digits = o.mem;
    if (std::string("KMGTkmgt").find(digits.back()) != std::string::npos) digits.pop_back();
    if (!all_digits(digits)) throw bad_input("--mem: expected a size such as 4000, 8G or 512M, got \"" + o.mem + "\"");
  }
  for (const auto& a : o.sbatch_args)
    if (a.rfind("--array", 0) == 0 || a.rfind("-a", 0) == 0)
      throw bad_input("--sbatch-arg " + a + ": hcx sets --array itself (use --max-parallel for the % limit)");
}

}  // namespace hcx::slurm
