// Writing a safetensors file one tensor at a time: the header (names, dtypes, shapes and
// offsets) is written first from the tensors' descriptions, then each tensor's bytes as it is
// handed over, in the declared order. A writer never holds more than the tensor it is given,
// so a file larger than memory can be written from pieces gathered one by one.
#pragma once

#include <ATen/Tensor.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace omnirm::io {

struct TensorDescription {
  std::string name;
  at::ScalarType dtype = at::kFloat;
  std::vector<int64_t> shape;
  uint64_t bytes() const;
};

class SafetensorsWriter {
 public:
  // Creates `path` and writes its header. Names must be unique and not "__metadata__".
  SafetensorsWriter(std::string path, std::vector<TensorDescription> tensors,
                    const std::map<std::string, std::string>& metadata = {});
  ~SafetensorsWriter();
  SafetensorsWriter(const SafetensorsWriter&) = delete;
  SafetensorsWriter& operator=(const SafetensorsWriter&) = delete;

  // The next declared tensor's values (any device, its declared dtype and shape).
  void write(const at::Tensor& tensor);
  // The name write() expects next ("" once all are written).
  const std::string& next_name() const;
  // Checks every declared tensor was written and flushes the file.
  void finish();

 private:
  std::string path_;
  std::vector<TensorDescription> tensors_;
  size_t next_ = 0;
  std::ofstream out_;
};

// The same over a checkpoint directory in the Hugging Face sharded layout (see
// io/safetensors_checkpoint.h): tensors fill shards of at most `max_shard_bytes` in the
// declared order (a larger tensor gets a shard of its own); one shard is model.safetensors,
// several are model-0000i-of-0000n.safetensors plus model.safetensors.index.json.
class ShardedSafetensorsWriter {
 public:
  ShardedSafetensorsWriter(std::string dir, const std::vector<TensorDescription>& tensors,
                           uint64_t max_shard_bytes,
                           std::map<std::string, std::string> metadata = {});
  ~ShardedSafetensorsWriter();
  ShardedSafetensorsWriter(const ShardedSafetensorsWriter&) = delete;
  ShardedSafetensorsWriter& operator=(const ShardedSafetensorsWriter&) = delete;

  void write(const at::Tensor& tensor);
  // Finishes the last shard and writes the index; returns the file names written.
  std::vector<std::string> finish();

 private:
  void open_next();
  std::string shard_file(size_t index) const;

  std::string dir_;
  std::map<std::string, std::string> metadata_;
  std::vector<std::vector<TensorDescription>> shards_;
  size_t shard_ = 0;    // the shard being written
  size_t written_ = 0;  // tensors of it written
  uint64_t total_bytes_ = 0;
  std::unique_ptr<SafetensorsWriter> writer_;
};

}  // namespace omnirm::io
