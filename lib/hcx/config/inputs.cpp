// Input files of a run: listing, checking and hashing them (see inputs.h).
#include "hcx/config/inputs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <tuple>

#include "hcx/error.h"

namespace hcx::config {
namespace {

// "" when `path` can be read as a file, else why not.
std::string unreadable(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return "file not found";
    return std::string("cannot be read (") + std::strerror(errno) + ")";
  }
  if (S_ISDIR(st.st_mode)) return "is a directory, not a file";
  if (access(path.c_str(), R_OK) != 0) return std::string("cannot be read (") + std::strerror(errno) + ")";
  return "";
}

// FNV-1a, 64 bits (offset basis 14695981039346656037, prime 1099511628211).
struct Fnv1a64 {
  uint64_t h = 14695981039346656037ULL;
  void add(const unsigned char* p, size_t n) {
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ULL;
  }
};

std::string hash_file(const std::string& path, const std::string& what, int64_t* bytes) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw bad_input(what + ": " + path + ": cannot be read (" + std::strerror(errno) + ")");
  Fnv1a64 fnv;
  std::vector<unsigned char> buf(1 << 20);
  int64_t total = 0;
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) {
    fnv.add(buf.data(), n);
    total += static_cast<int64_t>(n);
  }
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) throw bad_input(what + ": " + path + ": cannot be read (read error)");
  *bytes = total;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv.h));
  return hex;
}

}  // namespace

std::vector<InputFile> input_files(const RunConfig& c) {
  std::vector<InputFile> out;
  auto add = [&](std::string key, const std::string& path) {
    if (!path.empty()) out.push_back({std::move(key), path});
  };
  const bool files = c.data.source == "text" || c.data.source == "tokens";
  if (files) add("data.path", c.data.path);
  if (files && c.data.tokenizer != "bytes") add("data.tokenizer", c.data.tokenizer);
  for (size_t i = 0; i < c.eval.tasks.size(); ++i) {
    const auto& t = c.eval.tasks[i];
    if (t.kind == "choice" || t.kind == "pairs") add("eval.tasks[" + std::to_string(i) + "].path", t.path);
  }
  for (size_t i = 0; i < c.eval.extra_val.size(); ++i)
    add("eval.extra_val[" + std::to_string(i) + "].path", c.eval.extra_val[i].path);
  return out;
}

void resolve_input_paths(RunConfig& c, const std::filesystem::path& dir) {
  if (dir.empty()) return;
  auto resolve = [&](std::string& path) {
    const std::filesystem::path p(path);
    if (!path.empty() && p.is_relative()) path = (dir / p).lexically_normal().string();
  };
  const bool files = c.data.source == "text" || c.data.source == "tokens";
  if (files) resolve(c.data.path);
  if (files && c.data.tokenizer != "bytes") resolve(c.data.tokenizer);
  for (auto& t : c.eval.tasks)
    if (t.kind == "choice" || t.kind == "pairs") resolve(t.path);
  for (auto& x : c.eval.extra_val) resolve(x.path);
}

std::vector<std::string> check_input_files(const RunConfig& c) {
  std::vector<std::string> errors;
  for (const auto& f : input_files(c)) {
    const std::string why = unreadable(f.path);
    if (!why.empty()) errors.push_back(f.key + ": " + f.path + ": " + why);
  }
  return errors;
}

std::string file_id(const std::string& path, const std::string& what) {
  const std::string why = unreadable(path);
  if (!why.empty()) throw bad_input(what + ": " + path + ": " + why);
  struct stat st {};
  stat(path.c_str(), &st);
  // Same path, size and mtime: the same contents, short of a deliberate forgery.
  using Key = std::tuple<std::string, int64_t, int64_t, int64_t>;
  static std::mutex mu;
  static std::map<Key, std::string> memo;
  const Key key{path, static_cast<int64_t>(st.st_size), static_cast<int64_t>(st.st_mtim.tv_sec),
                static_cast<int64_t>(st.st_mtim.tv_nsec)};
  {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = memo.find(key); it != memo.end()) return it->second;
  }
  int64_t bytes = 0;
  const std::string hex = hash_file(path, what, &bytes);
  const std::string id = std::to_string(bytes) + ":" + hex;
  std::lock_guard<std::mutex> lock(mu);
  memo[key] = id;
  return id;
}

std::string data_id(const RunConfig& c) {
  std::string id = c.data.source == "synthetic" ? "synthetic" : "";
  for (const auto& f : input_files(c)) id += (id.empty() ? "" : " ") + file_id(f.path, f.key);
  return id;
}

}  // namespace hcx::config
