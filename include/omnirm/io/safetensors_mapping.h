// Memory-mapped safetensors reading. The file is opened read-only and mapped once; its header
// is parsed and validated once (io/safetensors_header.h); tensors are CPU views of the
// mapping, so reading costs no copy and pages come in only when touched. Every tensor keeps
// the mapping alive, so tensors may outlive the SafetensorsMapping that made them. The
// mapping is private copy-on-write: writing into a tensor in place never reaches the file.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "omnirm/io/safetensors_header.h"

namespace omnirm::io {

at::ScalarType to_scalar_type(SafetensorsDtype dtype);

class SafetensorsMapping {
 public:
  // Maps and validates `path`; a missing, short or malformed file throws a UserError naming it.
  explicit SafetensorsMapping(const std::string& path);

  const std::string& path() const { return path_; }
  const SafetensorsHeader& header() const { return header_; }
  uint64_t file_size() const;

  // The tensor `name` as a CPU view of the mapping: shape and dtype as the header says.
  // A tensor whose bytes are not aligned to its element size is copied instead.
  // Throws a UserError when the file holds no such tensor.
  at::Tensor tensor(const std::string& name) const;
  // Every tensor, in data offset order.
  std::vector<std::pair<std::string, at::Tensor>> tensors() const;
  bool contains(const std::string& name) const;

 private:
  struct Region;  // the mapped bytes; unmapped when the last tensor or mapping lets go
  at::Tensor view(const SafetensorsTensorInfo& info) const;

  std::string path_;
  std::shared_ptr<Region> region_;
  SafetensorsHeader header_;
  std::map<std::string, size_t> index_;  // name -> position in header_.tensors
};

// Shorthand for SafetensorsMapping(path).
inline SafetensorsMapping map_safetensors(const std::string& path) {
  return SafetensorsMapping(path);
}

}  // namespace omnirm::io
