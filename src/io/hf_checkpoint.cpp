// Implementation of io/hf_checkpoint.h.
#include "omnirm/io/hf_checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "omnirm/core/error.h"
#include "omnirm/io/safetensors_checkpoint.h"
#include "omnirm/io/safetensors_header.h"
#include "omnirm/io/safetensors_mapping.h"

namespace omnirm::io {

namespace fs = std::filesystem;

namespace {

constexpr const char* kValueHead = "value_head.safetensors";

// The shards an index's weight_map names, in name order (model-00001-of-0000N first), as
// paths beside it.
std::vector<std::string> shards_of_index(const fs::path& index) {
  std::map<std::string, std::string> first_tensor;  // shard -> a tensor it should hold
  for (const auto& [tensor, shard] : read_safetensors_weight_map(index.string())) {
    first_tensor.emplace(shard, tensor);
  }
  std::vector<std::string> files;
  for (const auto& [shard, tensor] : first_tensor) {
    const fs::path file = index.parent_path() / shard;
    if (!fs::is_regular_file(file))
      throw UserError(index.string() + ": shard " + shard + " (for " + tensor +
                      ") is missing; download every shard the index lists");
    files.push_back(file.string());
  }
  return files;
}

std::vector<std::string> files_of_directory(const fs::path& dir) {
  std::vector<std::string> files;
  for (const char* index :
       {"model.safetensors.index.json", "pytorch_model.safetensors.index.json"}) {
    if (fs::is_regular_file(dir / index)) {
      files = shards_of_index(dir / index);
      break;
    }
  }
  if (files.empty() && fs::is_regular_file(dir / "model.safetensors"))
    files.push_back((dir / "model.safetensors").string());
  if (files.empty()) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      const std::string name = entry.path().filename().string();
      if (entry.is_regular_file() && name.ends_with(".safetensors") && name != kValueHead)
        files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
  }
  if (fs::is_regular_file(dir / kValueHead)) files.push_back((dir / kValueHead).string());
  if (files.empty())
    throw UserError(dir.string() +
                    ": no .safetensors file in this directory; point at a checkpoint directory "
                    "or a file");
  return files;
}

}  // namespace

int64_t TensorHeader::numel() const {
  int64_t count = 1;
  for (int64_t d : shape) count *= d;
  return count;
}

std::vector<std::string> hf_weight_files(const std::string& path) {
  const fs::path p(path);
  if (fs::is_directory(p)) return files_of_directory(p);
  if (!fs::is_regular_file(p))
    throw UserError(path +
                    ": no such file or directory; give a .safetensors file, an "
                    "index.json or a checkpoint directory");
  if (path.ends_with(".json")) return shards_of_index(p);
  return {path};
}

std::vector<TensorHeader> read_safetensors_headers(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError("cannot open " + path + ": no such safetensors file");
  in.seekg(0, std::ios::end);
  const auto file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  unsigned char prefix[8] = {};
  if (file_size < 8 || !in.read(reinterpret_cast<char*>(prefix), 8)) {
    throw UserError(path + ": not a safetensors file (shorter than its 8-byte header length)");
  }
  // Only the header is read; the parser checks it against the size of the data section.
  const uint64_t header_size = safetensors_header_length(prefix, file_size, path);
  std::string text(header_size, '\0');
  in.read(text.data(), static_cast<std::streamsize>(header_size));
  const SafetensorsHeader header =
      parse_safetensors_header(text, file_size - 8 - header_size, path);
  std::vector<TensorHeader> tensors;
  for (const SafetensorsTensorInfo& info : header.tensors) {
    tensors.push_back({info.name, safetensors_dtype_name(info.dtype), info.shape, path});
  }
  return tensors;
}

std::vector<TensorHeader> read_hf_checkpoint_headers(const std::string& path) {
  std::vector<TensorHeader> all;
  for (const std::string& file : hf_weight_files(path)) {
    std::vector<TensorHeader> part = read_safetensors_headers(file);
    all.insert(all.end(), part.begin(), part.end());
  }
  return all;
}

NamedTensors load_hf_checkpoint(const std::string& path) {
  NamedTensors all;
  std::set<std::string> names;
  for (const std::string& file : hf_weight_files(path)) {
    // Views of the mapped file: memory grows only as the tensors are copied into a model.
    const SafetensorsMapping mapping(file);
    for (auto& [name, tensor] : mapping.tensors()) {
      if (!names.insert(name).second)
        throw UserError(file + ": tensor '" + name +
                        "' is also in an earlier file of this checkpoint; keep one copy");
      all.emplace_back(name, std::move(tensor));
    }
  }
  return all;
}

}  // namespace omnirm::io
