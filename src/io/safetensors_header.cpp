// Implementation of io/safetensors_header.h. Torch-free on purpose: the fuzz target builds
// this file alone with nlohmann-json.
#include "omnirm/io/safetensors_header.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "omnirm/core/error.h"

namespace omnirm::io {

namespace {

struct DtypeSpelling {
  SafetensorsDtype dtype;
  const char* name;
  size_t bytes;
};

constexpr DtypeSpelling kDtypes[] = {
    {SafetensorsDtype::F64, "F64", 8}, {SafetensorsDtype::F32, "F32", 4},
    {SafetensorsDtype::F16, "F16", 2}, {SafetensorsDtype::BF16, "BF16", 2},
    {SafetensorsDtype::I64, "I64", 8}, {SafetensorsDtype::I32, "I32", 4},
    {SafetensorsDtype::I16, "I16", 2}, {SafetensorsDtype::I8, "I8", 1},
    {SafetensorsDtype::U8, "U8", 1},   {SafetensorsDtype::BOOL, "BOOL", 1},
};

// A tensor's element count times 8 bytes must fit in int64, and so must every stride torch
// computes from the shape (hence zero-sized dims count as 1 here).
constexpr uint64_t kMaxElements = uint64_t(std::numeric_limits<int64_t>::max()) / 8;
constexpr size_t kMaxRank = 64;

// Keys repeated inside one JSON object: nlohmann keeps the last silently, the format forbids
// them, so the parse callback records the first repeat.
struct DuplicateKeyWatch {
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
};

nlohmann::json parse_json_refusing_duplicates(std::string_view text, const std::string& path) {
  DuplicateKeyWatch watch;
  const nlohmann::json::parser_callback_t callback =
      [&watch](int /*depth*/, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
        using Event = nlohmann::json::parse_event_t;
        if (event == Event::object_start) {
          watch.open_objects.emplace_back();
        } else if (event == Event::object_end) {
          if (!watch.open_objects.empty()) watch.open_objects.pop_back();
        } else if (event == Event::key && !watch.open_objects.empty() && parsed.is_string()) {
          const std::string& key = parsed.get_ref<const std::string&>();
          if (!watch.open_objects.back().insert(key).second && watch.duplicate.empty()) {
            watch.duplicate = key;
          }
        }
        return true;
      };
  nlohmann::json header =
      nlohmann::json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/false);
  if (header.is_discarded()) {
    throw UserError(path + ": header is not valid JSON; the file is damaged or not safetensors");
  }
  if (!watch.duplicate.empty()) {
    throw UserError(path + ": header names '" + watch.duplicate +
                    "' twice; the file is damaged or was written by a faulty tool");
  }
  return header;
}

SafetensorsDtype dtype_from_name(const std::string& name, const std::string& where) {
  for (const auto& d : kDtypes) {
    if (name == d.name) return d.dtype;
  }
  throw UserError(where + ": unsupported dtype '" + name +
                  "' (omnirm reads F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
}

std::map<std::string, std::string> read_metadata(const nlohmann::json& value,
                                                 const std::string& path) {
  if (!value.is_object()) throw UserError(path + ": __metadata__ is not an object");
  std::map<std::string, std::string> metadata;
  for (auto m = value.begin(); m != value.end(); ++m) {
    if (!m->is_string()) {
      throw UserError(path + ": __metadata__ value '" + m.key() + "' must be a string");
    }
    metadata[m.key()] = m->get<std::string>();
  }
  return metadata;
}

SafetensorsTensorInfo read_entry(const std::string& name, const nlohmann::json& entry,
                                 uint64_t data_size, const std::string& path) {
  const std::string where = path + ": tensor '" + name + "'";
  if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
      !entry.contains("data_offsets") || !entry["dtype"].is_string() ||
      !entry["shape"].is_array() || !entry["data_offsets"].is_array() ||
      entry["data_offsets"].size() != 2) {
    throw UserError(where + ": entry needs dtype, shape and two data_offsets");
  }
  SafetensorsTensorInfo info;
  info.name = name;
  info.dtype = dtype_from_name(entry["dtype"].get<std::string>(), where);
  if (entry["shape"].size() > kMaxRank) {
    throw UserError(where + ": shape has " + std::to_string(entry["shape"].size()) +
                    " dims, more than " + std::to_string(kMaxRank));
  }
  uint64_t elements = 1;
  uint64_t stride_product = 1;  // product with zero dims counted as 1
  for (const auto& dim : entry["shape"]) {
    if (!dim.is_number_unsigned()) {
      throw UserError(where + ": shape must hold non-negative integers, got " + dim.dump());
    }
    const uint64_t d = dim.get<uint64_t>();
    const uint64_t nonzero = std::max<uint64_t>(d, 1);
    if (stride_product > kMaxElements / nonzero) {
      throw UserError(where + ": shape too large (its element count overflows int64)");
    }
    stride_product *= nonzero;
    elements *= d;
    info.shape.push_back(static_cast<int64_t>(d));
  }
  const auto& offsets = entry["data_offsets"];
  if (!offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned()) {
    throw UserError(where + ": data_offsets must be non-negative integers");
  }
  info.begin = offsets[0].get<uint64_t>();
  info.end = offsets[1].get<uint64_t>();
  if (info.begin > info.end || info.end > data_size) {
    throw UserError(where + ": data_offsets [" + std::to_string(info.begin) + ", " +
                    std::to_string(info.end) + ") fall outside the " + std::to_string(data_size) +
                    " data bytes; the file is truncated or damaged");
  }
  const uint64_t bytes = elements * safetensors_dtype_bytes(info.dtype);
  if (info.end - info.begin != bytes) {
    throw UserError(where + ": shape needs " + std::to_string(bytes) +
                    " bytes but data_offsets span " + std::to_string(info.end - info.begin));
  }
  return info;
}

// The format requires the tensors to tile the data section exactly.
void check_tiling(const std::vector<SafetensorsTensorInfo>& sorted, uint64_t data_size,
                  const std::string& path) {
  uint64_t expected = 0;
  const SafetensorsTensorInfo* previous = nullptr;
  for (const auto& info : sorted) {
    if (info.begin < expected) {
      throw UserError(path + ": tensors '" + previous->name + "' and '" + info.name +
                      "' overlap in the data section");
    }
    if (info.begin > expected) {
      throw UserError(path + ": " + std::to_string(info.begin - expected) +
                      " unused data bytes before tensor '" + info.name +
                      "' (the format forbids gaps)");
    }
    expected = info.end;
    previous = &info;
  }
  if (expected != data_size) {
    throw UserError(path + ": " + std::to_string(data_size - expected) +
                    " data bytes after the last tensor belong to none (the format forbids "
                    "gaps); the file is damaged");
  }
}

}  // namespace

const char* safetensors_dtype_name(SafetensorsDtype dtype) {
  for (const auto& d : kDtypes) {
    if (d.dtype == dtype) return d.name;
  }
  return "?";
}

size_t safetensors_dtype_bytes(SafetensorsDtype dtype) {
  for (const auto& d : kDtypes) {
    if (d.dtype == dtype) return d.bytes;
  }
  return 0;
}

uint64_t safetensors_header_length(const unsigned char (&prefix)[8], uint64_t file_size,
                                   const std::string& path) {
  uint64_t header_size = 0;
  for (int i = 0; i < 8; ++i) header_size |= uint64_t(prefix[i]) << (8 * i);
  if (file_size < 8 || header_size > file_size - 8) {
    throw UserError(path + ": header length " + std::to_string(header_size) +
                    " exceeds the file; the file is truncated or not safetensors");
  }
  if (header_size > kMaxSafetensorsHeaderBytes) {
    throw UserError(path + ": header length " + std::to_string(header_size) + " exceeds the " +
                    std::to_string(kMaxSafetensorsHeaderBytes) + "-byte limit");
  }
  if (header_size < 2) {
    throw UserError(path + ": header length " + std::to_string(header_size) +
                    " is too short for a JSON object; not a safetensors file");
  }
  return header_size;
}

SafetensorsHeader parse_safetensors_header(std::string_view header_text, uint64_t data_size,
                                           const std::string& path) {
  const nlohmann::json header = parse_json_refusing_duplicates(header_text, path);
  if (!header.is_object()) throw UserError(path + ": header is not a JSON object");
  SafetensorsHeader parsed;
  parsed.data_start = 8 + header_text.size();
  parsed.data_size = data_size;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      parsed.metadata = read_metadata(*it, path);
    } else {
      parsed.tensors.push_back(read_entry(it.key(), *it, data_size, path));
    }
  }
  std::stable_sort(parsed.tensors.begin(), parsed.tensors.end(),
                   [](const SafetensorsTensorInfo& a, const SafetensorsTensorInfo& b) {
                     return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
                   });
  check_tiling(parsed.tensors, data_size, path);
  return parsed;
}

SafetensorsHeader parse_safetensors_file_bytes(std::string_view file, const std::string& path) {
  if (file.size() < 8) {
    throw UserError(path + ": not a safetensors file (shorter than its 8-byte header length)");
  }
  unsigned char prefix[8];
  for (int i = 0; i < 8; ++i) prefix[i] = static_cast<unsigned char>(file[i]);
  const uint64_t header_size = safetensors_header_length(prefix, file.size(), path);
  return parse_safetensors_header(file.substr(8, header_size), file.size() - 8 - header_size, path);
}

}  // namespace omnirm::io
