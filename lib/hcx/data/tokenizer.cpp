// Byte and SentencePiece tokenizers; the latter through the hcx-spm helper.
#include "hcx/data/tokenizer.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "hcx/data/rng.h"
#include "hcx/error.h"
#include "hcx/util/process.h"

namespace hcx::data {

namespace fs = std::filesystem;

namespace {

// Bumped when the cache layout or the encoding rules change.
constexpr uint64_t kCacheVersion = 1;

bool is_executable(const fs::path& p) { return access(p.c_str(), X_OK) == 0 && fs::is_regular_file(p); }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A private temporary directory, removed with everything in it.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "hcx-data-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw io_error("cannot create a temporary directory: " + std::string(std::strerror(errno)));
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// Checks that `path` is a non-empty regular file; returns its stat.
struct stat require_text(const std::string& path, const std::string& what) {
  struct stat st{};
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) throw bad_input(what + ": file not found");
    throw io_error(what + ": cannot read: " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) throw bad_input(what + ": not a regular file");
  if (st.st_size == 0) throw bad_input(what + ": file is empty");
  return st;
}

void rename_or_throw(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    const int e = errno;
    std::remove(from.c_str());
    throw io_error(to + ": cannot write: " + std::strerror(e));
  }
}

std::string tmp_name(const std::string& path) { return path + ".tmp" + std::to_string(getpid()); }

std::vector<std::pair<int64_t, int64_t>> read_index(const std::string& path) {
  const std::string raw = read_file(path);
  std::vector<std::pair<int64_t, int64_t>> index(raw.size() / 16);
  auto u64 = [&](size_t at) {
    uint64_t v = 0;
    for (int b = 7; b >= 0; --b) v = (v << 8) | static_cast<unsigned char>(raw[at + b]);
    return static_cast<int64_t>(v);
  };
  for (size_t i = 0; i < index.size(); ++i) index[i] = {u64(16 * i), u64(16 * i + 8)};
  return index;
}

}  // namespace

std::string find_spm_helper() {
  if (const char* env = std::getenv("HCX_SPM"); env && *env) {
    if (!is_executable(env)) throw io_error(std::string("HCX_SPM: ") + env + ": not an executable file");
    return env;
  }
  std::vector<fs::path> places;
  std::error_code ec;
  const fs::path exe_dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  if (!ec) {
    places.push_back(exe_dir / "hcx-spm");
    places.push_back(exe_dir / ".." / "apps" / "hcx" / "hcx-spm");
  }
  if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    std::string dir;
    while (std::getline(ss, dir, ':'))
      if (!dir.empty()) places.push_back(fs::path(dir) / "hcx-spm");
  }
  for (const auto& p : places)
    if (is_executable(p)) return p.lexically_normal().string();
  std::string looked = exe_dir.string() + ", " + (exe_dir / ".." / "apps" / "hcx").lexically_normal().string() + ", $PATH";
  throw io_error("hcx-spm not found (looked in " + looked +
                 "); build it with the project (needs libsentencepiece-dev) or set HCX_SPM");
}

std::string run_spm_helper(const std::vector<std::string>& args, const std::string& what) {
  std::vector<std::string> argv{find_spm_helper()};
  argv.insert(argv.end(), args.begin(), args.end());
  const util::ProcessResult r = util::run_process(argv);
  if (r.exit_code == 0) return r.out;
  std::string msg = r.out;
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r')) msg.pop_back();
  const std::string prefix = "hcx-spm: ";
  if (const auto at = msg.rfind(prefix); at != std::string::npos) msg = msg.substr(at + prefix.size());
  if (msg.empty()) msg = "hcx-spm failed with exit status " + std::to_string(r.exit_code);
  if (r.exit_code == 2) throw bad_input(what + ": " + msg);
  throw io_error(what + ": " + msg);
}

Tokenizer Tokenizer::bytes() { return Tokenizer(); }

Tokenizer Tokenizer::sentencepiece(const std::string& model_path, const std::string& key) {
  const std::string what = key + ": " + model_path;
  struct stat st{};
  if (stat(model_path.c_str(), &st) != 0) throw bad_input(what + ": file not found");
  Tokenizer t;
  t.model_path_ = model_path;
  // hcx-spm's messages already name the model file.
  const std::string info = run_spm_helper({"info", model_path}, key);
  long long n = 0;
  if (std::sscanf(info.c_str(), "vocab_size %lld", &n) != 1 || n <= 0)
    throw io_error(what + ": unexpected answer from hcx-spm info: " + info);
  t.vocab_size_ = n;
  // The id(s) of a sentence-final "." in running text: "x." minus "x".
  const auto ids = t.encode({"x.", "x", "."});
  const auto& with = ids[0];
  const auto& without = ids[1];
  if (with.size() > without.size() && std::equal(without.begin(), without.end(), with.begin())) {
    t.boundary_.assign(with.begin() + static_cast<std::ptrdiff_t>(without.size()), with.end());
  } else if (!ids[2].empty()) {
    t.boundary_ = ids[2];
  } else {
    t.boundary_ = {0};
  }
  return t;
}

Tokenizer Tokenizer::open(const std::string& spec, const std::string& key) {
  if (spec == "bytes") return bytes();
  if (spec.empty()) throw bad_input(key + ": expected \"bytes\" or a SentencePiece model path, got nothing");
  return sentencepiece(spec, key);
}

std::vector<std::vector<int32_t>> Tokenizer::encode(const std::vector<std::string>& texts) const {
  std::vector<std::vector<int32_t>> out(texts.size());
  if (is_bytes()) {
    for (size_t i = 0; i < texts.size(); ++i)
      for (unsigned char c : texts[i]) out[i].push_back(c);
    return out;
  }
  if (texts.empty()) return out;
  TempDir dir;
  const std::string in_path = (dir.path / "lines.txt").string(), out_path = (dir.path / "ids.txt").string();
  {
    std::ofstream in(in_path, std::ios::binary);
    for (const auto& t : texts) {
      std::string line = t;
      for (char& c : line)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
      in << line << '\n';
    }
    if (!in) throw io_error(in_path + ": cannot write");
  }
  run_spm_helper({"encode-lines", "--model", model_path_, "--input", in_path, "--output", out_path},
                 "data.tokenizer");
  std::ifstream ids(out_path);
  std::string line;
  for (size_t i = 0; i < texts.size(); ++i) {
    if (!std::getline(ids, line)) throw io_error(out_path + ": hcx-spm returned fewer lines than it was given");
    std::istringstream ss(line);
    int32_t id;
    while (ss >> id) out[i].push_back(id);
  }
  return out;
}

std::string train_sentencepiece(const std::string& text, int64_t vocab, const std::string& prefix,
                                const std::string& model_type) {
  require_text(text, text);
  run_spm_helper({"train", "--input", text, "--prefix", prefix, "--vocab", std::to_string(vocab), "--model-type",
                  model_type},
                 "tokenizer");
  return prefix + ".model";
}

int64_t encode_text_file(const Tokenizer& tok, const std::string& text, const std::string& out, TokenDtype dtype,
                         const std::string& index) {
  const struct stat st = require_text(text, text);
  const int width = dtype_width(dtype);
  if (tok.vocab_size() > (int64_t{1} << (8 * width)))
    throw bad_input(tok.name() + ": a vocabulary of " + std::to_string(tok.vocab_size()) + " does not fit " +
                    to_string(dtype) + " ids; use uint32");
  const std::string tmp = tmp_name(out);
  if (tok.is_bytes()) {
    std::ifstream in(text, std::ios::binary);
    std::ofstream o(tmp, std::ios::binary | std::ios::trunc);
    std::vector<char> buf(1 << 16), wide(buf.size() * static_cast<size_t>(width), 0);
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      const auto n = static_cast<size_t>(in.gcount());
      for (size_t i = 0; i < n; ++i) wide[i * width] = buf[i];  // little-endian: high bytes stay 0
      o.write(wide.data(), static_cast<std::streamsize>(n * width));
    }
    o.close();
    if (!o) {
      std::remove(tmp.c_str());
      throw io_error(out + ": cannot write: " + std::strerror(errno));
    }
    rename_or_throw(tmp, out);
    return st.st_size;
  }
  std::vector<std::string> args{"encode", "--model", tok.model_path(), "--input", text, "--output", tmp,
                                "--dtype", to_string(dtype)};
  const std::string index_tmp = index.empty() ? "" : tmp_name(index);
  if (!index.empty()) args.insert(args.end(), {"--index", index_tmp});
  try {
    run_spm_helper(args, text);
  } catch (...) {
    std::remove(tmp.c_str());
    if (!index_tmp.empty()) std::remove(index_tmp.c_str());
    throw;
  }
  if (!index.empty()) rename_or_throw(index_tmp, index);  // the .bin last: its presence marks a complete cache entry
  struct stat out_st{};
  stat(tmp.c_str(), &out_st);
  rename_or_throw(tmp, out);
  return out_st.st_size / width;
}

EncodedText open_text(const Tokenizer& tok, const std::string& text, const std::string& cache_dir,
                      const std::string& what) {
  const struct stat st = require_text(text, what);
  EncodedText enc;
  enc.text_bytes = st.st_size;
  if (tok.is_bytes()) {
    enc.tokens = TokenSpan::map_file(text, TokenDtype::kUint8, what);
    return enc;
  }
  // Cache key: where the text is, its size and mtime (not its contents: a
  // corpus may be gigabytes), and the model's bytes (models are small).
  const std::string abs = fs::absolute(text).lexically_normal().string();
  const std::string model = read_file(tok.model_path());
  const int64_t mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  uint64_t h = fnv1a(abs.data(), abs.size());
  h = hash_key({h, static_cast<uint64_t>(st.st_size), static_cast<uint64_t>(mtime_ns),
                fnv1a(model.data(), model.size()), kCacheVersion});
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  const TokenDtype dtype = tok.vocab_size() <= 65536 ? TokenDtype::kUint16 : TokenDtype::kUint32;
  const fs::path dir = fs::path(cache_dir) / "tokens";
  const std::string stem = fs::path(text).stem().string() + "-" + hex;
  const std::string bin = (dir / (stem + ".bin")).string(), idx = (dir / (stem + ".idx")).string();
  std::error_code ec;
  if (!fs::exists(bin) || !fs::exists(idx)) {
    fs::create_directories(dir, ec);
    if (ec) throw io_error(dir.string() + ": cannot create the token cache: " + ec.message());
    encode_text_file(tok, text, bin, dtype, idx);
  }
  enc.line_index = read_index(idx);
  if (enc.line_index.empty() || enc.line_index.back().second == 0)
    throw bad_input(what + ": no tokens after encoding with " + tok.model_path());
  enc.tokens = TokenSpan::map_file(bin, dtype, what + " (encoded as " + bin + ")");
  return enc;
}

}  // namespace hcx::data
