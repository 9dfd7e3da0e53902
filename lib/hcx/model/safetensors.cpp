// The safetensors writer (see safetensors.h). Plain C++ and nlohmann_json.
#include "hcx/model/safetensors.h"

#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace hcx::model {

// The format is little-endian and the tensors' bytes are copied as they lie in memory.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors.cpp writes host memory as little-endian");

size_t safetensors_dtype_size(const std::string& dtype) {
  static const std::map<std::string, size_t> kSizes = {
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4},
      {"I16", 2}, {"I8", 1},  {"U8", 1},  {"BOOL", 1}};
  const auto it = kSizes.find(dtype);
  if (it == kSizes.end()) throw std::invalid_argument("safetensors: unknown dtype '" + dtype + "'");
  return it->second;
}

std::string safetensors_header(const std::vector<SafetensorsEntry>& entries,
                               const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> seen;
  uint64_t offset = 0;
  for (const auto& e : entries) {
    if (e.name == "__metadata__" || !seen.insert(e.name).second)
      throw std::invalid_argument("safetensors: duplicate or reserved tensor name '" + e.name + "'");
    uint64_t numel = 1;
    for (int64_t s : e.shape) {
      if (s < 0) throw std::invalid_argument("safetensors: " + e.name + ": negative dimension");
      numel *= static_cast<uint64_t>(s);
    }
    if (numel * safetensors_dtype_size(e.dtype) != e.bytes)
      throw std::invalid_argument("safetensors: " + e.name + ": " + std::to_string(e.bytes) +
                                  " bytes do not match its shape and dtype " + e.dtype);
    header[e.name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {offset, offset + e.bytes}}};
    offset += e.bytes;
  }
  std::string text = header.dump();
  // Padding keeps every tensor of 8-byte elements 8-byte aligned after an mmap (the reference writer does the same).
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

void write_safetensors(std::ostream& out, const std::vector<SafetensorsEntry>& entries,
                       const std::map<std::string, std::string>& metadata) {
  const std::string header = safetensors_header(entries, metadata);
  uint64_t n = header.size();
  char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  out.write(len, 8);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  for (const auto& e : entries) out.write(static_cast<const char*>(e.data), static_cast<std::streamsize>(e.bytes));
}

}  // namespace hcx::model
