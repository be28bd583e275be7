// Implementation of io/safetensors_mapping.h (POSIX mmap).
#include "omnirm/io/safetensors_mapping.h"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "omnirm/core/error.h"

namespace omnirm::io {

struct SafetensorsMapping::Region {
  void* address = nullptr;
  uint64_t size = 0;
  ~Region() {
    if (address != nullptr) munmap(address, size);
  }
};

at::ScalarType to_scalar_type(SafetensorsDtype dtype) {
  switch (dtype) {
    case SafetensorsDtype::F64:
      return at::kDouble;
    case SafetensorsDtype::F32:
      return at::kFloat;
    case SafetensorsDtype::F16:
      return at::kHalf;
    case SafetensorsDtype::BF16:
      return at::kBFloat16;
    case SafetensorsDtype::I64:
      return at::kLong;
    case SafetensorsDtype::I32:
      return at::kInt;
    case SafetensorsDtype::I16:
      return at::kShort;
    case SafetensorsDtype::I8:
      return at::kChar;
    case SafetensorsDtype::U8:
      return at::kByte;
    case SafetensorsDtype::BOOL:
      return at::kBool;
  }
  TORCH_INTERNAL_ASSERT(false, "unhandled safetensors dtype");
}

SafetensorsMapping::SafetensorsMapping(const std::string& path)
    : path_(path), region_(std::make_shared<Region>()) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw UserError("cannot open " + path + ": " + std::strerror(errno) +
                    "; expected a safetensors file");
  }
  struct stat info {};
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    throw UserError(path + ": not a regular file; expected a safetensors file");
  }
  const uint64_t size = static_cast<uint64_t>(info.st_size);
  if (size < 8) {
    ::close(fd);
    throw UserError(path + ": not a safetensors file (shorter than its 8-byte header length)");
  }
  // Private and writable: in-place writes to a tensor copy the page instead of faulting.
  void* address = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  const int map_errno = errno;
  ::close(fd);
  if (address == MAP_FAILED) {
    throw UserError("cannot map " + path + ": " + std::strerror(map_errno));
  }
  region_->address = address;
  region_->size = size;
  header_ =
      parse_safetensors_file_bytes(std::string_view(static_cast<const char*>(address), size), path);
  for (size_t i = 0; i < header_.tensors.size(); ++i) index_[header_.tensors[i].name] = i;
}

uint64_t SafetensorsMapping::file_size() const { return region_->size; }

bool SafetensorsMapping::contains(const std::string& name) const { return index_.count(name) != 0; }

at::Tensor SafetensorsMapping::view(const SafetensorsTensorInfo& info) const {
  const at::ScalarType type = to_scalar_type(info.dtype);
  char* bytes = static_cast<char*>(region_->address) + header_.data_start + info.begin;
  const auto options = at::TensorOptions().dtype(type).device(at::kCPU);
  if (reinterpret_cast<uintptr_t>(bytes) % safetensors_dtype_bytes(info.dtype) != 0) {
    // A header length that is not a multiple of 8 misaligns the data; copy such tensors.
    at::Tensor copy = at::empty(info.shape, options);
    std::memcpy(copy.data_ptr(), bytes, info.end - info.begin);
    return copy;
  }
  std::shared_ptr<Region> keep_alive = region_;
  return at::from_blob(
      bytes, info.shape, [keep_alive](void*) mutable { keep_alive.reset(); }, options);
}

at::Tensor SafetensorsMapping::tensor(const std::string& name) const {
  const auto found = index_.find(name);
  if (found == index_.end()) {
    throw UserError(path_ + ": no tensor named '" + name + "'");
  }
  return view(header_.tensors[found->second]);
}

std::vector<std::pair<std::string, at::Tensor>> SafetensorsMapping::tensors() const {
  std::vector<std::pair<std::string, at::Tensor>> all;
  all.reserve(header_.tensors.size());
  for (const auto& info : header_.tensors) all.emplace_back(info.name, view(info));
  return all;
}

}  // namespace omnirm::io
