// Progress records and log tails (see progress.h).
#include "hcx/exec/progress.h"

#include <cstdlib>
#include <deque>
#include <fstream>

namespace hcx::exec {
namespace {

constexpr std::string_view kTag = "hcx-progress ";

double to_double(std::string_view s) {
  const std::string text(s);
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  return end && *end == '\0' && !text.empty() ? v : std::nan("");
}

}  // namespace

std::optional<Progress> parse_progress(std::string_view line) {
  const size_t at = line.find(kTag);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = line.substr(at + kTag.size());
  Progress p;
  bool have_step = false;
  while (!rest.empty()) {
    const size_t space = rest.find(' ');
    const std::string_view field = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    const size_t eq = field.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = field.substr(0, eq), value = field.substr(eq + 1);
    if (key == "step") {
      const size_t slash = value.find('/');
      const double step = to_double(value.substr(0, slash));
      if (std::isnan(step)) return std::nullopt;
      p.step = static_cast<int64_t>(step);
      if (slash != std::string_view::npos) {
        const double total = to_double(value.substr(slash + 1));
        if (!std::isnan(total)) p.total = static_cast<int64_t>(total);
      }
      have_step = true;
    } else if (key == "loss") {
      p.loss = to_double(value);
    } else if (key == "tokens_per_s") {
      p.tokens_per_s = to_double(value);
    } else if (key == "eta_s") {
      p.eta_s = to_double(value);
    }
  }
  if (!have_step) return std::nullopt;
  return p;
}

LogFollower::LogFollower(std::filesystem::path path, size_t max_read) : path_(std::move(path)), max_read_(max_read) {}

void LogFollower::skip_to_end() {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path_, ec);
  offset_ = ec ? 0 : size;
  partial_.clear();
}

bool LogFollower::poll() {
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path_, ec);
  if (ec) return false;
  if (size < offset_) {  // truncated: start over
    offset_ = 0;
    partial_.clear();
  }
  if (size == offset_) return false;
  uint64_t from = offset_;
  if (size - from > max_read_) {
    from = size - max_read_;
    partial_.clear();
  }
  std::ifstream in(path_, std::ios::binary);
  if (!in) return false;
  in.seekg(static_cast<std::streamoff>(from));
  std::string chunk(static_cast<size_t>(size - from), '\0');
  in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  chunk.resize(static_cast<size_t>(in.gcount()));
  offset_ = from + chunk.size();

  bool found = false;
  std::string text = partial_ + chunk;
  size_t start = 0;
  for (size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
    std::string_view line(text.data() + start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (auto p = parse_progress(line)) {
      latest_ = p;
      found = true;
    }
    start = nl + 1;
  }
  partial_ = text.substr(start);
  if (partial_.size() > max_read_) partial_.clear();
  return found;
}

std::string log_tail(const std::filesystem::path& path, size_t max_lines) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff from = size > 16384 ? size - 16384 : 0;
  in.seekg(from);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::deque<std::string> lines;
  size_t start = from > 0 ? text.find('\n') + 1 : 0;  // skip a cut first line
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(start, nl - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty() && line.find(kTag) == std::string::npos && line.rfind("==== ", 0) != 0) {
      lines.push_back(std::move(line));
      if (lines.size() > max_lines) lines.pop_front();
    }
    start = nl + 1;
  }
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : "\n") + l;
  return out;
}

}  // namespace hcx::exec
