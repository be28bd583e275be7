// libFuzzer target for the safetensors header parser (io/safetensors_header.h). Each input is
// read twice: as a whole file (length prefix, header, data) and as bare header JSON over a
// data section of the input's length. The parser may only accept or throw UserError, and
// whatever it accepts must be safe to use: every tensor inside the data, the tensors tiling
// the data exactly in offset order, and every shape matching its byte count.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "omnirm/core/error.h"
#include "omnirm/io/safetensors_header.h"

namespace {

using omnirm::io::SafetensorsHeader;

void check_usable(const SafetensorsHeader& header) {
  uint64_t expected = 0;
  for (const auto& tensor : header.tensors) {
    if (tensor.begin != expected || tensor.end < tensor.begin) __builtin_trap();
    if (tensor.end > header.data_size) __builtin_trap();
    uint64_t elements = 1;
    for (const int64_t dim : tensor.shape) {
      if (dim < 0) __builtin_trap();
      if (dim != 0 && elements > UINT64_MAX / static_cast<uint64_t>(dim)) __builtin_trap();
      elements *= static_cast<uint64_t>(dim);
    }
    if (elements * omnirm::io::safetensors_dtype_bytes(tensor.dtype) != tensor.end - tensor.begin)
      __builtin_trap();
    expected = tensor.end;
  }
  if (expected != header.data_size) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const SafetensorsHeader header = omnirm::io::parse_safetensors_file_bytes(bytes, "fuzz");
    if (header.data_start + header.data_size != size) __builtin_trap();
    check_usable(header);
  } catch (const omnirm::UserError&) {
    // Bad input, reported as such: fine.
  }
  try {
    check_usable(omnirm::io::parse_safetensors_header(bytes, size, "fuzz"));
  } catch (const omnirm::UserError&) {
  }
  return 0;
}
