// What a sweep shows while it runs, on stderr. On a terminal: a live block,
// redrawn in place, with the counts (done / running / failed / left) and one
// line per running run (name, id, device, step, loss, ETA), and a permanent
// line for each run that ends. Otherwise: plain log lines (start, every
// quarter of a run's steps, end). Colours only on a terminal without NO_COLOR.
// Torch-free. Used from one thread.
#pragma once

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "hcx/exec/executor.h"
#include "hcx/run_status.h"

namespace hcx::sweep {

struct DisplayOptions {
  bool live = false;   // redraw a block in place (a terminal)
  bool color = false;  // ANSI colours
  std::FILE* out = stderr;
};

// live: stderr is a terminal and TERM is not "dumb"; color: live and NO_COLOR unset.
DisplayOptions detect_display();

class SweepDisplay {
 public:
  SweepDisplay(std::string sweep, size_t to_train, DisplayOptions opts);
  ~SweepDisplay();

  void started(const exec::Job& job, const std::string& slot);
  void progress(const exec::Job& job, const exec::Progress& p);
  // `status`: completed | failed | diverged | interrupted | running; `detail`
  // is shown after it (first line of the error, or the final loss).
  void finished(const exec::Job& job, RunStatus status, double seconds, const std::string& detail);
  // A line that stays (above the live block).
  void note(const std::string& line);
  // Redraws the live block (at most every 200 ms unless `force`).
  void refresh(bool force = false);
  // Erases the live block; later output starts on a clean line.
  void close();

  size_t done() const { return done_; }
  size_t failed() const { return failed_; }

 private:
  struct Active {
    std::string name, slot;
    int64_t total = 0;
    exec::Progress last;
    bool have_progress = false;
    int64_t last_logged_quarter = 0;
    std::chrono::steady_clock::time_point start;
  };
  void erase_block();
  void draw_block();
  std::string paint(const std::string& text, const char* code) const;

  std::string sweep_;
  size_t to_train_;
  DisplayOptions opts_;
  std::map<std::string, Active> active_;  // by run id, in start order via order_
  std::vector<std::string> order_;
  size_t done_ = 0, failed_ = 0, interrupted_ = 0, elsewhere_ = 0, started_ = 0;
  int block_lines_ = 0;
  std::chrono::steady_clock::time_point begin_, last_draw_;
};

// "42s", "3m05s", "1h02m".
std::string format_duration(double seconds);

}  // namespace hcx::sweep
