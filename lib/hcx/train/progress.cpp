// Progress lines of a training run; see progress.h.
#include "hcx/train/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace hcx::train {

ProgressDisplay::ProgressDisplay(const std::string& mode, int64_t total_steps)
    : total_(total_steps), start_(std::chrono::steady_clock::now()) {
  if (mode == "none") {
    mode_ = Mode::kNone;
  } else if (mode == "plain") {
    mode_ = Mode::kPlain;
  } else if (mode == "live") {
    mode_ = Mode::kLive;
  } else {
    mode_ = isatty(STDERR_FILENO) ? Mode::kLive : Mode::kPlain;
  }
}

std::string ProgressDisplay::format_eta(double s) {
  if (!(s >= 0) || !std::isfinite(s)) return "--";
  const int64_t t = static_cast<int64_t>(std::llround(s));
  if (t >= 3600) return fmt::format("{}:{:02}:{:02}", t / 3600, (t / 60) % 60, t % 60);
  return fmt::format("{}:{:02}", t / 60, t % 60);
}

void ProgressDisplay::update(int64_t step, double loss, double tokens_per_s) {
  if (mode_ == Mode::kNone) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (first_step_ < 0) first_step_ = 0;
  // ETA from this process's own pace (a resumed run measures from its restart).
  const double per_step = step > first_step_ ? elapsed / static_cast<double>(step - first_step_) : -1;
  const double eta = per_step >= 0 ? per_step * static_cast<double>(total_ - step) : -1;
  if (mode_ == Mode::kPlain) {
    std::fprintf(stderr, "hcx-progress step=%lld/%lld loss=%.6g tokens_per_s=%.1f eta_s=%.1f\n",
                 static_cast<long long>(step), static_cast<long long>(total_), loss, tokens_per_s, eta);
    return;
  }
  std::fprintf(stderr, "\r\033[Kstep %lld/%lld | loss %.4f | %.0f tok/s | ETA %s", static_cast<long long>(step),
               static_cast<long long>(total_), loss, tokens_per_s, format_eta(eta).c_str());
  std::fflush(stderr);
  line_open_ = true;
}

void ProgressDisplay::log(const std::string& line) {
  if (mode_ == Mode::kNone) return;
  if (line_open_) {
    std::fprintf(stderr, "\r\033[K");
    line_open_ = false;
  }
  spdlog::info("{}", line);
}

void ProgressDisplay::finish() {
  if (line_open_) std::fprintf(stderr, "\n");
  line_open_ = false;
}

}  // namespace hcx::train
