// Implementation of io/safetensors.h.
#include "omnirm/io/safetensors.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "omnirm/core/error.h"

namespace omnirm::io {

namespace {

constexpr uint64_t kMaxHeaderBytes = 100u << 20;

struct DtypeName {
  at::ScalarType type;
  const char* name;
};

constexpr DtypeName kDtypes[] = {
    {at::kFloat, "F32"}, {at::kDouble, "F64"}, {at::kBFloat16, "BF16"}, {at::kHalf, "F16"},
    {at::kLong, "I64"},  {at::kInt, "I32"},    {at::kShort, "I16"},     {at::kChar, "I8"},
    {at::kByte, "U8"},   {at::kBool, "BOOL"},
};

const char* dtype_name(at::ScalarType type) {
  for (const auto& d : kDtypes) {
    if (d.type == type) return d.name;
  }
  throw UserError(std::string("safetensors: cannot store dtype ") + c10::toString(type));
}

at::ScalarType dtype_from_name(const std::string& name, const std::string& where) {
  for (const auto& d : kDtypes) {
    if (name == d.name) return d.type;
  }
  throw UserError(where + ": unsupported dtype '" + name + "'");
}

}  // namespace

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<at::Tensor> contiguous;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
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
  unsigned char size_bytes[8];
  if (file_size < 8 || !in.read(reinterpret_cast<char*>(size_bytes), 8)) {
    throw UserError(path + ": not a safetensors file (shorter than its 8-byte header length)");
  }
  uint64_t header_size = 0;
  for (int i = 0; i < 8; ++i) header_size |= uint64_t(size_bytes[i]) << (8 * i);
  if (header_size > kMaxHeaderBytes || header_size > file_size - 8) {
    throw UserError(path + ": header length " + std::to_string(header_size) +
                    " exceeds the file; the file is truncated or not safetensors");
  }
  std::string header_text(header_size, '\0');
  in.read(header_text.data(), static_cast<std::streamsize>(header_size));
  nlohmann::json header = nlohmann::json::parse(header_text, nullptr, /*allow_exceptions=*/false);
  if (!header.is_object()) throw UserError(path + ": header is not a JSON object");

  const uint64_t data_start = 8 + header_size;
  const uint64_t data_size = file_size - data_start;
  SafetensorsFile file;
  struct Span {
    uint64_t begin, end;
    std::string name;
  };
  std::vector<Span> spans;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string where = path + ": tensor '" + it.key() + "'";
    if (it.key() == "__metadata__") {
      if (!it->is_object()) throw UserError(path + ": __metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) throw UserError(path + ": __metadata__ values must be strings");
        file.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    const auto& entry = *it;
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
        !entry.contains("data_offsets") || !entry["dtype"].is_string() ||
        !entry["shape"].is_array() || !entry["data_offsets"].is_array() ||
        entry["data_offsets"].size() != 2) {
      throw UserError(where + ": entry needs dtype, shape and two data_offsets");
    }
    const at::ScalarType type = dtype_from_name(entry["dtype"].get<std::string>(), where);
    std::vector<int64_t> shape;
    uint64_t elements = 1;
    for (const auto& dim : entry["shape"]) {
      if (!dim.is_number_unsigned())
        throw UserError(where + ": shape must hold non-negative integers");
      const uint64_t d = dim.get<uint64_t>();
      if (d != 0 && elements > (uint64_t(1) << 62) / d)
        throw UserError(where + ": shape too large");
      elements *= d;
      shape.push_back(static_cast<int64_t>(d));
    }
    if (!entry["data_offsets"][0].is_number_unsigned() ||
        !entry["data_offsets"][1].is_number_unsigned()) {
      throw UserError(where + ": data_offsets must be non-negative integers");
    }
    const uint64_t begin = entry["data_offsets"][0].get<uint64_t>();
    const uint64_t end = entry["data_offsets"][1].get<uint64_t>();
    if (begin > end || end > data_size) {
      throw UserError(where + ": data_offsets [" + std::to_string(begin) + ", " +
                      std::to_string(end) + ") fall outside the " + std::to_string(data_size) +
                      " data bytes");
    }
    if (end - begin != elements * c10::elementSize(type)) {
      throw UserError(where + ": shape needs " + std::to_string(elements * c10::elementSize(type)) +
                      " bytes but data_offsets span " + std::to_string(end - begin));
    }
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(type));
    spans.push_back({begin, end, it.key()});
    file.tensors.emplace_back(it.key(), t);
  }
  // Reject overlaps: sort spans by offset and check neighbours.
  std::vector<size_t> order(spans.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return spans[a].begin < spans[b].begin; });
  for (size_t i = 1; i < order.size(); ++i) {
    const Span& prev = spans[order[i - 1]];
    const Span& cur = spans[order[i]];
    if (cur.begin < prev.end) {
      throw UserError(path + ": tensors '" + prev.name + "' and '" + cur.name + "' overlap");
    }
  }
  NamedTensors ordered;
  for (size_t i : order) {
    at::Tensor& t = file.tensors[i].second;
    in.seekg(static_cast<std::streamoff>(data_start + spans[i].begin));
    in.read(static_cast<char*>(t.data_ptr()),
            static_cast<std::streamsize>(spans[i].end - spans[i].begin));
    if (!in) throw UserError(path + ": could not read the bytes of '" + spans[i].name + "'");
    ordered.push_back(std::move(file.tensors[i]));
  }
  file.tensors = std::move(ordered);
  return file;
}

}  // namespace omnirm::io
