// The sweep's live block and plain progress lines (see display.h).
#include "hcx/sweep/display.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

#include <spdlog/spdlog.h>

#include "hcx/util/text.h"

namespace hcx::sweep {
namespace {

constexpr const char* kGreen = "\x1b[32m";
constexpr const char* kRed = "\x1b[31m";
constexpr const char* kYellow = "\x1b[33m";
constexpr const char* kDim = "\x1b[2m";
constexpr const char* kBold = "\x1b[1m";

std::string short_id(const std::string& id) { return id.substr(0, 8); }

std::string fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// Cuts `line` to `cols` visible characters (ANSI colour codes take no room),
// so that the live block never wraps and redraws in place.
std::string fit(const std::string& line, int cols) {
  if (cols <= 0) return line;
  std::string out;
  int shown = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    const unsigned char ch = static_cast<unsigned char>(line[i]);
    if (ch == 0x1b) {  // ESC [ ... m
      const size_t end = line.find('m', i);
      if (end == std::string::npos) break;
      out += line.substr(i, end - i + 1);
      i = end;
      continue;
    }
    if ((ch & 0xC0) != 0x80 && ++shown > cols) {
      out += "\x1b[0m";
      break;
    }
    out += line[i];
  }
  return out;
}

int terminal_columns(std::FILE* out) {
  struct winsize ws {};
  if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col - 1;
  return 0;
}

}  // namespace

std::string format_duration(double seconds) {
  if (!(seconds >= 0) || std::isinf(seconds)) return "?";
  const long s = std::lround(seconds);
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%lds", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  }
  return buf;
}

DisplayOptions detect_display() {
  DisplayOptions o;
  const char* term = std::getenv("TERM");
  o.live = isatty(STDERR_FILENO) && !(term && std::strcmp(term, "dumb") == 0);
  const char* no_color = std::getenv("NO_COLOR");
  o.color = o.live && !(no_color && *no_color);
  return o;
}

SweepDisplay::SweepDisplay(std::string sweep, size_t to_train, DisplayOptions opts)
    : sweep_(std::move(sweep)), to_train_(to_train), opts_(opts) {
  begin_ = last_draw_ = std::chrono::steady_clock::now();
}

SweepDisplay::~SweepDisplay() { close(); }

std::string SweepDisplay::paint(const std::string& text, const char* code) const {
  return opts_.color ? code + text + "\x1b[0m" : text;
}

void SweepDisplay::started(const exec::Job& job, const std::string& slot) {
  Active a;
  a.name = job.name;
  a.slot = slot;
  a.total = job.total_steps;
  a.start = std::chrono::steady_clock::now();
  active_[job.run_id] = a;
  order_.push_back(job.run_id);
  ++started_;
  if (!opts_.live) {
    spdlog::info("[{}/{}] start {} ({}) on {}", started_, to_train_, job.name, job.run_id, slot);
  } else {
    refresh(true);
  }
}

void SweepDisplay::progress(const exec::Job& job, const exec::Progress& p) {
  auto it = active_.find(job.run_id);
  if (it == active_.end()) return;
  Active& a = it->second;
  a.last = p;
  a.have_progress = true;
  if (p.total > 0) a.total = p.total;
  if (!opts_.live && a.total > 0) {
    const int64_t quarter = p.step * 4 / a.total;
    if (quarter > a.last_logged_quarter && p.step < a.total) {
      a.last_logged_quarter = quarter;
      std::string line = job.name + " (" + short_id(job.run_id) + "): step " + std::to_string(p.step) + "/" +
                         std::to_string(a.total);
      if (!std::isnan(p.loss)) line += ", loss " + fixed(p.loss, 4);
      if (!std::isnan(p.eta_s)) line += ", eta " + format_duration(p.eta_s);
      spdlog::info("{}", line);
    }
  }
}

void SweepDisplay::finished(const exec::Job& job, RunStatus status, double seconds, const std::string& detail) {
  active_.erase(job.run_id);
  for (auto it = order_.begin(); it != order_.end(); ++it) {
    if (*it == job.run_id) {
      order_.erase(it);
      break;
    }
  }
  const char* color = kGreen;
  std::string mark = "✓";
  if (status == RunStatus::kCompleted) {
    ++done_;
  } else if (status == RunStatus::kInterrupted) {
    ++interrupted_;
    color = kYellow;
    mark = "■";
  } else if (status == RunStatus::kRunning) {
    ++elsewhere_;
    color = kDim;
    mark = "·";
  } else {
    ++failed_;
    color = kRed;
    mark = "✗";
  }
  std::string line = job.name + " (" + job.run_id + ") " + to_string(status) + " in " + format_duration(seconds);
  if (!detail.empty()) line += ": " + detail;
  if (!opts_.live) {
    const std::string counter = "[" + std::to_string(done_ + failed_ + interrupted_ + elsewhere_) + "/" +
                                std::to_string(to_train_) + "] ";
    if (status == RunStatus::kCompleted || status == RunStatus::kRunning) {
      spdlog::info("{}{}", counter, line);
    } else {
      spdlog::warn("{}{}", counter, line);
    }
    return;
  }
  note(paint(mark, color) + " " + line);
}

void SweepDisplay::note(const std::string& line) {
  if (!opts_.live) {
    spdlog::info("{}", line);
    return;
  }
  erase_block();
  std::fprintf(opts_.out, "%s\n", line.c_str());
  draw_block();
}

void SweepDisplay::refresh(bool force) {
  if (!opts_.live) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(200)) return;
  erase_block();
  draw_block();
}

void SweepDisplay::close() {
  if (opts_.live) erase_block();
}

void SweepDisplay::erase_block() {
  if (block_lines_ > 0) std::fprintf(opts_.out, "\x1b[%dA\r\x1b[J", block_lines_);
  block_lines_ = 0;
}

void SweepDisplay::draw_block() {
  last_draw_ = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(last_draw_ - begin_).count();
  const size_t ended = done_ + failed_ + interrupted_ + elsewhere_;
  const size_t left = to_train_ > ended + active_.size() ? to_train_ - ended - active_.size() : 0;
  std::string head = paint(sweep_, kBold) + ": " + paint(std::to_string(done_) + " done", kGreen) + " · " +
                     std::to_string(active_.size()) + " running · " +
                     paint(std::to_string(failed_) + " failed", failed_ ? kRed : "") + " · " +
                     std::to_string(left) + " left · " + format_duration(elapsed);
  const int cols = terminal_columns(opts_.out);
  std::fprintf(opts_.out, "%s\n", fit(head, cols).c_str());
  block_lines_ = 1;
  size_t name_width = 0, slot_width = 0;
  for (const auto& id : order_) {
    name_width = std::max(name_width, util::display_width(active_[id].name));
    slot_width = std::max(slot_width, util::display_width(active_[id].slot));
  }
  for (const auto& id : order_) {
    const Active& a = active_[id];
    std::string line = "  " + util::pad(a.name, name_width) + "  " + paint(short_id(id), kDim) + "  " +
                       util::pad(a.slot, slot_width) + "  ";
    if (a.have_progress) {
      line += "step " + std::to_string(a.last.step) + "/" + std::to_string(a.total);
      if (!std::isnan(a.last.loss)) line += "  loss " + fixed(a.last.loss, 4);
      if (!std::isnan(a.last.eta_s)) line += "  ETA " + format_duration(a.last.eta_s);
    } else {
      line += "starting (" +
              format_duration(std::chrono::duration<double>(last_draw_ - a.start).count()) + ")";
    }
    std::fprintf(opts_.out, "%s\n", fit(line, cols).c_str());
    ++block_lines_;
  }
  std::fflush(opts_.out);
}

}  // namespace hcx::sweep
