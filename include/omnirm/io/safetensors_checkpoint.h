// Sharded safetensors checkpoints in the Hugging Face layout: model-00001-of-00003.safetensors
// ... plus model.safetensors.index.json = {"metadata": {"total_size": N}, "weight_map":
// {tensor name: shard file}}; a checkpoint that fits one shard is a single model.safetensors
// and no index. Reading accepts a directory, an index file or one .safetensors file through
// one entry point and checks the index against the shards: every listed shard exists, every
// tensor is in the shard the map names, no tensor is in two shards, none is unlisted.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "omnirm/io/safetensors.h"

namespace omnirm::io {

constexpr const char* kSafetensorsIndexName = "model.safetensors.index.json";
constexpr const char* kSafetensorsSingleName = "model.safetensors";
constexpr uint64_t kDefaultMaxShardBytes = 5'000'000'000;  // "5GB", as transformers

// "500MB", "5GB", "1.5GiB", "123" (bytes). KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024.
// `where` names the option for the error message.
uint64_t parse_byte_size(const std::string& text, const std::string& where);

// Writes `tensors` (any device; see save_safetensors for dtypes) into `dir` (which must
// exist), in order, as shards of at most `max_shard_bytes` tensor bytes each; a tensor larger
// than the limit gets a shard of its own. One shard is written as model.safetensors without
// an index. `metadata` goes into every shard's "__metadata__". Returns the file names written.
std::vector<std::string> save_safetensors_sharded(
    const std::string& dir, const NamedTensors& tensors, uint64_t max_shard_bytes,
    const std::map<std::string, std::string>& metadata = {});

enum class TensorStorage {
  mapped,  // CPU views of read-only file mappings (io/safetensors_mapping.h)
  copied,  // CPU tensors that own their memory, read shard by shard
};

struct SafetensorsCheckpoint {
  NamedTensors tensors;                         // shard by shard, each in data offset order
  std::vector<std::string> files;               // the shard paths read, in order
  uint64_t tensor_bytes = 0;                    // sum of the tensors' byte sizes
  std::map<std::string, std::string> metadata;  // the first shard's __metadata__
};

// An index's weight_map, tensor name -> shard file name, read and checked (a JSON object with a
// "weight_map" object of file-name strings; shard names are plain file names beside the
// index). Whether the shards exist is left to the caller.
std::map<std::string, std::string> read_safetensors_weight_map(const std::string& index_path);

// `path`: a directory holding model.safetensors.index.json or model.safetensors, an index
// file, or a single .safetensors file.
SafetensorsCheckpoint read_safetensors_checkpoint(const std::string& path,
                                                  TensorStorage storage = TensorStorage::mapped);

}  // namespace omnirm::io
