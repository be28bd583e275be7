// Implementation of io/safetensors.h.
#include "omnirm/io/safetensors.h"

#include <ATen/ATen.h>

#include <fstream>

#include "omnirm/core/error.h"
#include "omnirm/io/safetensors_header.h"
#include "omnirm/io/safetensors_mapping.h"
#include "omnirm/io/safetensors_writer.h"

namespace omnirm::io {

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::vector<TensorDescription> descriptions;
  descriptions.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    descriptions.push_back({name, tensor.scalar_type(), tensor.sizes().vec()});
  }
  SafetensorsWriter writer(path, std::move(descriptions), metadata);
  for (const auto& item : tensors) writer.write(item.second);
  writer.finish();
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
