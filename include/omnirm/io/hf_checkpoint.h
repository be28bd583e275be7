// The files of a Hugging Face checkpoint and what they hold. A checkpoint is named by one
// .safetensors file, a model.safetensors.index.json (its weight_map's shards, beside it), or
// a directory (its index if it has one, else model.safetensors, else every *.safetensors in
// name order; LLaMA-Factory's value_head.safetensors is always included when present). The
// headers can be read alone, without the tensor bytes, to describe a checkpoint of any size.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "omnirm/io/safetensors.h"

namespace omnirm::io {

// The safetensors files of a checkpoint, in reading order. Throws UserError for a path that
// does not exist, an index that is not valid JSON or names a missing shard, or a directory
// without any .safetensors file.
std::vector<std::string> hf_weight_files(const std::string& path);

struct TensorHeader {
  std::string name;
  std::string dtype;  // as the file spells it: "BF16", "F32", ...
  std::vector<int64_t> shape;
  std::string file;  // the file that holds it
  int64_t numel() const;
};

// Every tensor's header entry of one safetensors file, in file offset order (the tensor
// bytes are not read). Throws UserError for a malformed header.
std::vector<TensorHeader> read_safetensors_headers(const std::string& path);

// The headers of every file of a checkpoint (hf_weight_files), concatenated.
std::vector<TensorHeader> read_hf_checkpoint_headers(const std::string& path);

// Every tensor of a checkpoint, read file by file. A name present in two files is refused.
NamedTensors load_hf_checkpoint(const std::string& path);

}  // namespace omnirm::io
