// Token spans over owned vectors and read-only memory maps; token-file writer.
#include "hcx/data/token_span.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "hcx/error.h"

namespace hcx::data {

namespace {

// Unmaps on destruction; lives as long as any span over it.
struct Mapping {
  void* addr = nullptr;
  size_t length = 0;
  ~Mapping() {
    if (addr) munmap(addr, length);
  }
};

template <typename T>
int64_t first_at_least(const T* p, int64_t n, int64_t limit) {
  for (int64_t i = 0; i < n; ++i)
    if (static_cast<int64_t>(p[i]) >= limit) return i;
  return -1;
}

template <typename T>
void widen(const T* p, int64_t n, int64_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<int64_t>(p[i]);
}

}  // namespace

int dtype_width(TokenDtype dtype) {
  switch (dtype) {
    case TokenDtype::kUint8: return 1;
    case TokenDtype::kUint16: return 2;
    case TokenDtype::kUint32: return 4;
  }
  return 4;
}

const char* to_string(TokenDtype dtype) {
  switch (dtype) {
    case TokenDtype::kUint8: return "uint8";
    case TokenDtype::kUint16: return "uint16";
    case TokenDtype::kUint32: return "uint32";
  }
  return "?";
}

TokenDtype parse_token_dtype(const std::string& name, const std::string& key) {
  if (name == "uint16") return TokenDtype::kUint16;
  if (name == "uint32") return TokenDtype::kUint32;
  throw bad_input(key + ": expected uint16 or uint32, got \"" + name + "\"");
}

TokenSpan TokenSpan::from_ids(const std::vector<int32_t>& ids) {
  int32_t max_id = 0;
  for (int32_t id : ids) max_id = std::max(max_id, id);
  TokenSpan s;
  s.size_ = static_cast<int64_t>(ids.size());
  auto keep = [&s](auto packed) {
    s.data_ = reinterpret_cast<const unsigned char*>(packed->data());
    s.keep_ = std::move(packed);
  };
  if (max_id < 256) {
    s.dtype_ = TokenDtype::kUint8;
    keep(std::make_shared<std::vector<uint8_t>>(ids.begin(), ids.end()));
  } else if (max_id < 65536) {
    s.dtype_ = TokenDtype::kUint16;
    keep(std::make_shared<std::vector<uint16_t>>(ids.begin(), ids.end()));
  } else {
    s.dtype_ = TokenDtype::kUint32;
    keep(std::make_shared<std::vector<uint32_t>>(ids.begin(), ids.end()));
  }
  return s;
}

TokenSpan TokenSpan::map_file(const std::string& path, TokenDtype dtype, const std::string& what) {
  struct stat st{};
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) throw bad_input(what + ": file not found");
    throw io_error(what + ": cannot read: " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) throw bad_input(what + ": not a regular file");
  const int64_t bytes = st.st_size;
  if (bytes == 0) throw bad_input(what + ": file is empty");
  const int width = dtype_width(dtype);
  if (bytes % width != 0)
    throw bad_input(what + ": " + std::to_string(bytes) + " bytes is not a multiple of " + std::to_string(width) +
                    " (" + to_string(dtype) + " ids)");
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw io_error(what + ": cannot read: " + std::strerror(errno));
  void* addr = mmap(nullptr, static_cast<size_t>(bytes), PROT_READ, MAP_PRIVATE, fd, 0);
  const int mmap_errno = errno;
  close(fd);
  if (addr == MAP_FAILED) throw io_error(what + ": cannot read: " + std::strerror(mmap_errno));
  auto mapping = std::make_shared<Mapping>();
  mapping->addr = addr;
  mapping->length = static_cast<size_t>(bytes);
  TokenSpan s;
  s.data_ = static_cast<const unsigned char*>(addr);
  s.size_ = bytes / width;
  s.dtype_ = dtype;
  s.keep_ = std::move(mapping);
  return s;
}

TokenSpan TokenSpan::slice(int64_t begin, int64_t end) const {
  TokenSpan s = *this;
  s.data_ = data_ + begin * dtype_width(dtype_);
  s.size_ = end - begin;
  return s;
}

void TokenSpan::copy_to(int64_t begin, int64_t n, int64_t* out) const {
  switch (dtype_) {
    case TokenDtype::kUint8: return widen(data_ + begin, n, out);
    case TokenDtype::kUint16: return widen(reinterpret_cast<const uint16_t*>(data_) + begin, n, out);
    case TokenDtype::kUint32: return widen(reinterpret_cast<const uint32_t*>(data_) + begin, n, out);
  }
}

std::vector<int32_t> TokenSpan::to_vector() const {
  std::vector<int32_t> ids(static_cast<size_t>(size_));
  for (int64_t i = 0; i < size_; ++i) ids[static_cast<size_t>(i)] = (*this)[i];
  return ids;
}

int64_t TokenSpan::first_id_at_least(int64_t limit) const {
  switch (dtype_) {
    case TokenDtype::kUint8: return first_at_least(data_, size_, limit);
    case TokenDtype::kUint16: return first_at_least(reinterpret_cast<const uint16_t*>(data_), size_, limit);
    case TokenDtype::kUint32: return first_at_least(reinterpret_cast<const uint32_t*>(data_), size_, limit);
  }
  return -1;
}

void check_vocab(const TokenSpan& tokens, int64_t vocab_size, const std::string& what) {
  const int64_t pos = tokens.first_id_at_least(vocab_size);
  if (pos >= 0)
    throw bad_input(what + ": token id " + std::to_string(tokens[pos]) + " at position " + std::to_string(pos) +
                    " is >= model.vocab_size " + std::to_string(vocab_size));
}

void write_token_file(const std::string& path, const std::vector<int32_t>& ids, TokenDtype dtype) {
  const int width = dtype_width(dtype);
  const int64_t limit = int64_t{1} << (8 * width);
  std::vector<unsigned char> bytes(ids.size() * static_cast<size_t>(width));
  for (size_t i = 0; i < ids.size(); ++i) {
    const int64_t id = ids[i];
    if (id < 0 || id >= limit)
      throw bad_input(path + ": token id " + std::to_string(id) + " at position " + std::to_string(i) +
                      " does not fit " + to_string(dtype));
    for (int b = 0; b < width; ++b) bytes[i * width + b] = static_cast<unsigned char>(id >> (8 * b));
  }
  const std::string tmp = path + ".tmp" + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::remove(tmp.c_str());
      throw io_error(path + ": cannot write: " + std::strerror(errno));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    throw io_error(path + ": cannot write: " + std::strerror(e));
  }
}

}  // namespace hcx::data
