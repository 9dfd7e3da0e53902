// The safetensors file format (huggingface/safetensors, README "Format"),
// written without a dependency, so that `hcx export` produces weights that
// PyTorch, JAX and the Hugging Face tools load:
//   8 bytes       N, the header's length, an unsigned little-endian 64-bit integer
//   N bytes       a JSON object: {name: {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
//                 "__metadata__": {str: str}}, padded with spaces to a multiple of 8 bytes
//   the rest      the tensors' bytes, little-endian and row-major, in the order given,
//                 contiguous (data_offsets count from the first byte after the header)
// Torch-free: the caller hands over the bytes. hcx only builds on
// little-endian hosts (checked at compile time in safetensors.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace hcx::model {

// One tensor to write. The caller owns `data`, which must stay valid until
// write_safetensors returns.
struct SafetensorsEntry {
  std::string name;            // e.g. "h.0.attn.c_attn.weight"; "__metadata__" is reserved
  std::string dtype;           // "F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL"
  std::vector<int64_t> shape;  // {} for a scalar
  const void* data = nullptr;  // numel * safetensors_dtype_size(dtype) bytes
  size_t bytes = 0;
};

// Bytes per element of a safetensors dtype name. Throws std::invalid_argument
// for a name not listed above.
size_t safetensors_dtype_size(const std::string& dtype);

// The header (its JSON, space-padded to a multiple of 8 bytes) for `entries`
// laid out one after the other in the given order; names keep that order in
// the JSON. Throws std::invalid_argument for a duplicate or reserved name, an
// unknown dtype, or a byte count that does not match the shape.
std::string safetensors_header(const std::vector<SafetensorsEntry>& entries,
                               const std::map<std::string, std::string>& metadata);

// Writes the whole file (length, header, data) to `out`. Throws
// std::invalid_argument as safetensors_header; the caller checks the stream.
void write_safetensors(std::ostream& out, const std::vector<SafetensorsEntry>& entries,
                       const std::map<std::string, std::string>& metadata);

}  // namespace hcx::model
