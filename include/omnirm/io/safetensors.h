// Reading and writing the safetensors format: u64 little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets}} (+ optional "__metadata__"), then raw little-endian
// tensor bytes. Reads are bounds-checked: a malformed header, out-of-range or overlapping
// offsets, or a shape that disagrees with its byte size is refused with a UserError.
#pragma once

#include <ATen/Tensor.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace omnirm::io {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// Writes tensors (any device; fp32/fp64/bf16/fp16/int64/int32/int8/uint8/bool) in the given
// order. `metadata` goes into "__metadata__". The file is written in place: use an
// AtomicDirectory (io/atomic_dir.h) for crash safety.
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {});

struct SafetensorsFile {
  NamedTensors tensors;  // CPU tensors, in file offset order
  std::map<std::string, std::string> metadata;
};

SafetensorsFile load_safetensors(const std::string& path);

}  // namespace omnirm::io
