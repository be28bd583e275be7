// Implementation of io/safetensors_checkpoint.h.
#include "omnirm/io/safetensors_checkpoint.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "omnirm/core/error.h"
#include "omnirm/io/safetensors_mapping.h"
#include "omnirm/io/safetensors_writer.h"

namespace omnirm::io {

namespace fs = std::filesystem;

namespace {

uint64_t tensor_bytes(const at::Tensor& t) {
  return static_cast<uint64_t>(t.numel()) * static_cast<uint64_t>(t.element_size());
}

NamedTensors read_one_file(const std::string& file, TensorStorage storage,
                           std::map<std::string, std::string>* metadata) {
  if (storage == TensorStorage::copied) {
    SafetensorsFile loaded = load_safetensors(file);
    if (metadata != nullptr) *metadata = loaded.metadata;
    return std::move(loaded.tensors);
  }
  const SafetensorsMapping mapping(file);
  if (metadata != nullptr) *metadata = mapping.header().metadata;
  return mapping.tensors();
}

// weight_map file names must stay inside the checkpoint directory.
void check_shard_name(const std::string& shard, const std::string& index_path) {
  if (shard.empty() || shard == "." || shard == ".." ||
      shard.find_first_of("/\\") != std::string::npos) {
    throw UserError(index_path + ": weight_map names the shard '" + shard +
                    "'; shards must be plain file names beside the index");
  }
}

SafetensorsCheckpoint read_indexed(const std::string& index_path, TensorStorage storage) {
  const std::map<std::string, std::string> weight_map = read_safetensors_weight_map(index_path);
  const fs::path dir = fs::path(index_path).parent_path();
  std::set<std::string> shards;
  for (const auto& [name, shard] : weight_map) shards.insert(shard);
  SafetensorsCheckpoint checkpoint;
  std::map<std::string, std::string> found_in;  // tensor -> shard that holds it
  for (const std::string& shard : shards) {
    const std::string file = (dir / shard).string();
    if (!fs::is_regular_file(file)) {
      const auto example = std::find_if(weight_map.begin(), weight_map.end(),
                                        [&](const auto& entry) { return entry.second == shard; });
      throw UserError(index_path + ": weight_map puts '" + example->first + "' in " + shard +
                      ", which does not exist in " + dir.string());
    }
    NamedTensors tensors =
        read_one_file(file, storage, checkpoint.files.empty() ? &checkpoint.metadata : nullptr);
    for (auto& [name, tensor] : tensors) {
      if (const auto seen = found_in.find(name); seen != found_in.end()) {
        throw UserError(index_path + ": tensor '" + name + "' is in both " + seen->second +
                        " and " + shard + "; a checkpoint holds each tensor once");
      }
      const auto listed = weight_map.find(name);
      if (listed == weight_map.end()) {
        throw UserError(file + " holds tensor '" + name + "', which " + index_path +
                        " does not list; the index is stale");
      }
      if (listed->second != shard) {
        throw UserError(index_path + ": weight_map puts '" + name + "' in " + listed->second +
                        " but it is in " + shard + "; the index is stale");
      }
      found_in[name] = shard;
      checkpoint.tensor_bytes += tensor_bytes(tensor);
      checkpoint.tensors.emplace_back(name, std::move(tensor));
    }
    checkpoint.files.push_back(file);
  }
  for (const auto& [name, shard] : weight_map) {
    if (!found_in.count(name)) {
      throw UserError(index_path + ": weight_map puts '" + name + "' in " + shard +
                      ", which does not hold it");
    }
  }
  return checkpoint;
}

SafetensorsCheckpoint read_single(const std::string& file, TensorStorage storage) {
  SafetensorsCheckpoint checkpoint;
  checkpoint.tensors = read_one_file(file, storage, &checkpoint.metadata);
  for (const auto& [name, tensor] : checkpoint.tensors) {
    checkpoint.tensor_bytes += tensor_bytes(tensor);
  }
  checkpoint.files.push_back(file);
  return checkpoint;
}

}  // namespace

uint64_t parse_byte_size(const std::string& text, const std::string& where) {
  const std::string usage = " (expected bytes or a size such as 500MB, 5GB, 2GiB)";
  size_t number_end = 0;
  while (number_end < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[number_end])) || text[number_end] == '.')) {
    ++number_end;
  }
  std::string unit = text.substr(number_end);
  std::erase_if(unit, [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
  std::transform(unit.begin(), unit.end(), unit.begin(), [](char c) {
    return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  });
  static const std::map<std::string, double> kUnits = {{"", 1},
                                                       {"B", 1},
                                                       {"KB", 1e3},
                                                       {"MB", 1e6},
                                                       {"GB", 1e9},
                                                       {"TB", 1e12},
                                                       {"KIB", 1024.0},
                                                       {"MIB", 1048576.0},
                                                       {"GIB", 1073741824.0},
                                                       {"TIB", 1099511627776.0}};
  const std::string number = text.substr(0, number_end);
  const auto unit_scale = kUnits.find(unit);
  if (number.empty() || std::count(number.begin(), number.end(), '.') > 1 ||
      unit_scale == kUnits.end()) {
    throw UserError(where + ": cannot read '" + text + "' as a size" + usage);
  }
  const double bytes = std::stod(number) * unit_scale->second;
  if (!(bytes >= 1) || bytes > 9.0e18) {
    throw UserError(where + ": '" + text + "' is not a usable size" + usage);
  }
  return static_cast<uint64_t>(std::llround(bytes));
}

std::vector<std::string> save_safetensors_sharded(
    const std::string& dir, const NamedTensors& tensors, uint64_t max_shard_bytes,
    const std::map<std::string, std::string>& metadata) {
  std::vector<TensorDescription> descriptions;
  descriptions.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    descriptions.push_back({name, tensor.scalar_type(), tensor.sizes().vec()});
  }
  ShardedSafetensorsWriter writer(dir, descriptions, max_shard_bytes, metadata);
  for (const auto& item : tensors) writer.write(item.second);
  return writer.finish();
}

std::map<std::string, std::string> read_safetensors_weight_map(const std::string& index_path) {
  std::ifstream in(index_path);
  if (!in) throw UserError("cannot open " + index_path + ": no such index file");
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json index = nlohmann::json::parse(text.str(), nullptr, false);
  if (index.is_discarded() || !index.is_object()) {
    throw UserError(index_path +
                    ": not a JSON object; expected {\"metadata\": ..., "
                    "\"weight_map\": {tensor: shard file}}");
  }
  if (!index.contains("weight_map") || !index["weight_map"].is_object()) {
    throw UserError(index_path + ": needs a \"weight_map\" object {tensor name: shard file}");
  }
  std::map<std::string, std::string> weight_map;
  for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
    if (!it->is_string()) {
      throw UserError(index_path + ": weight_map['" + it.key() + "'] must be a file name string");
    }
    check_shard_name(it->get<std::string>(), index_path);
    weight_map[it.key()] = it->get<std::string>();
  }
  return weight_map;
}

SafetensorsCheckpoint read_safetensors_checkpoint(const std::string& path, TensorStorage storage) {
  if (fs::is_directory(path)) {
    const fs::path index = fs::path(path) / kSafetensorsIndexName;
    if (fs::exists(index)) return read_indexed(index.string(), storage);
    const fs::path single = fs::path(path) / kSafetensorsSingleName;
    if (fs::exists(single)) return read_single(single.string(), storage);
    throw UserError(path + ": holds neither " + std::string(kSafetensorsIndexName) + " nor " +
                    kSafetensorsSingleName + "; expected a safetensors checkpoint directory");
  }
  if (!fs::exists(path)) {
    throw UserError("cannot open " + path + ": no such safetensors file, index or directory");
  }
  if (fs::path(path).extension() == ".json") return read_indexed(path, storage);
  return read_single(path, storage);
}

}  // namespace omnirm::io
