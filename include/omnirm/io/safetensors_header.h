// The safetensors header, parsed and validated without torch: u64 little-endian header
// length, a JSON object {name: {dtype, shape, data_offsets}} (+ optional "__metadata__" of
// strings), then the data bytes. A header that parses is safe to use: every tensor lies
// inside the data, tensors neither overlap nor leave gaps, every shape matches its byte
// count and its element count fits in int64, and no name appears twice. Anything else is
// refused with a one-line UserError naming the file and the problem. The libFuzzer target in
// tests/fuzz drives these functions on arbitrary bytes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace omnirm::io {

enum class SafetensorsDtype : uint8_t { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

// "F32", "BF16", ... as the format spells them.
const char* safetensors_dtype_name(SafetensorsDtype dtype);
size_t safetensors_dtype_bytes(SafetensorsDtype dtype);

struct SafetensorsTensorInfo {
  std::string name;
  SafetensorsDtype dtype = SafetensorsDtype::F32;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets relative to the start of the data section
  uint64_t end = 0;
};

struct SafetensorsHeader {
  uint64_t data_start = 0;  // 8 + header length: where the data section begins in the file
  uint64_t data_size = 0;   // bytes after the header
  std::vector<SafetensorsTensorInfo> tensors;  // in data offset order
  std::map<std::string, std::string> metadata;
};

// Headers longer than this are refused (the reference implementation uses the same cap).
constexpr uint64_t kMaxSafetensorsHeaderBytes = 100ull << 20;

// Decodes the 8-byte length prefix and checks it against the file size.
uint64_t safetensors_header_length(const unsigned char (&prefix)[8], uint64_t file_size,
                                   const std::string& path);

// Parses the JSON header text (exactly the header-length bytes after the prefix) of a file
// whose data section holds `data_size` bytes.
SafetensorsHeader parse_safetensors_header(std::string_view header_text, uint64_t data_size,
                                           const std::string& path);

// Both steps on a whole file held in memory (a mapping, or fuzz input).
SafetensorsHeader parse_safetensors_file_bytes(std::string_view file, const std::string& path);

}  // namespace omnirm::io
