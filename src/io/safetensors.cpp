// Implementation of io/safetensors.h.
#include "omnirm/io/safetensors.h"

#include <ATen/ATen.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "omnirm/core/error.h"
#include "omnirm/io/safetensors_header.h"
#include "omnirm/io/safetensors_mapping.h"

namespace omnirm::io {

namespace {

// The format's name for `type`, through the reader's dtype table (io/safetensors_mapping.h).
const char* dtype_name(at::ScalarType type) {
  for (auto d = uint8_t(SafetensorsDtype::F64); d <= uint8_t(SafetensorsDtype::BOOL); ++d) {
    const auto dtype = static_cast<SafetensorsDtype>(d);
    if (to_scalar_type(dtype) == type) return safetensors_dtype_name(dtype);
  }
  throw UserError(std::string("safetensors: cannot store dtype ") + c10::toString(type));
}

}  // namespace

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<at::Tensor> contiguous;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (header.contains(name) || name == "__metadata__") {
      throw UserError("cannot write " + path + ": the tensor name '" + name +
                      "' is used twice or is reserved");
    }
    at::Tensor t = tensor.detach().to(at::kCPU).contiguous();
    const uint64_t bytes = t.numel() * t.element_size();
    header[name] = {{"dtype", dtype_name(t.scalar_type())},
                    {"shape", t.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    contiguous.push_back(std::move(t));
  }
  std::string header_text = header.dump();
  header_text.append((8 - header_text.size() % 8) % 8, ' ');  // align data to 8 bytes
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out)
    throw UserError("cannot write " + path + ": check the directory exists and is writable");
  const uint64_t header_size = header_text.size();
  unsigned char size_bytes[8];
  for (int i = 0; i < 8; ++i) size_bytes[i] = static_cast<unsigned char>(header_size >> (8 * i));
  out.write(reinterpret_cast<const char*>(size_bytes), 8);
  out.write(header_text.data(), static_cast<std::streamsize>(header_text.size()));
  for (const auto& t : contiguous) {
    out.write(static_cast<const char*>(t.data_ptr()),
              static_cast<std::streamsize>(t.numel() * t.element_size()));
  }
  if (!out) throw UserError("writing " + path + " failed: disk full?");
}

SafetensorsFile load_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError("cannot open " + path + ": no such safetensors file");
  in.seekg(0, std::ios::end);
  const uint64_t file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  unsigned char prefix[8];
  if (file_size < 8 || !in.read(reinterpret_cast<char*>(prefix), 8)) {
    throw UserError(path + ": not a safetensors file (shorter than its 8-byte header length)");
  }
  const uint64_t header_size = safetensors_header_length(prefix, file_size, path);
  std::string header_text(header_size, '\0');
  if (!in.read(header_text.data(), static_cast<std::streamsize>(header_size))) {
    throw UserError(path + ": could not read its " + std::to_string(header_size) + "-byte header");
  }
  const SafetensorsHeader header =
      parse_safetensors_header(header_text, file_size - 8 - header_size, path);
  SafetensorsFile file;
  file.metadata = header.metadata;
  for (const auto& info : header.tensors) {
    at::Tensor t = at::empty(info.shape, at::TensorOptions().dtype(to_scalar_type(info.dtype)));
    in.seekg(static_cast<std::streamoff>(header.data_start + info.begin));
    in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(info.end - info.begin));
    if (!in) throw UserError(path + ": could not read the bytes of '" + info.name + "'");
    file.tensors.emplace_back(info.name, std::move(t));
  }
  return file;
}

}  // namespace omnirm::io
