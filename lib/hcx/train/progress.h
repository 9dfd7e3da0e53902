// How a training run shows its progress on stderr (plain C++). On a terminal:
// one live line rewritten in place (step, loss, tokens/s, ETA). Otherwise, for
// logs and for the sweep executor that reads them: one line per log interval,
//   hcx-progress step=S/N loss=L tokens_per_s=T eta_s=E
// Evaluation lines go through spdlog in both cases.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace hcx::train {

class ProgressDisplay {
 public:
  // mode: "auto" (live when stderr is a terminal, else plain), "plain", "live" or "none".
  ProgressDisplay(const std::string& mode, int64_t total_steps);

  // End of a log interval at step `step`.
  void update(int64_t step, double loss, double tokens_per_s);
  // A line for people (evaluations); keeps the live line intact.
  void log(const std::string& line);
  // Ends the live line.
  void finish();

  // "1:02:03", "4:05" or "--" (seconds < 0).
  static std::string format_eta(double seconds);

 private:
  enum class Mode { kLive, kPlain, kNone };
  Mode mode_;
  int64_t total_;
  int64_t first_step_ = -1;
  std::chrono::steady_clock::time_point start_;
  bool line_open_ = false;
};

}  // namespace hcx::train
