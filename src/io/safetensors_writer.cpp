// Implementation of io/safetensors_writer.h.
#include "omnirm/io/safetensors_writer.h"

#include <ATen/ATen.h>

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "omnirm/core/error.h"
#include "omnirm/io/safetensors_checkpoint.h"
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

uint64_t TensorDescription::bytes() const {
  uint64_t count = 1;
  for (int64_t size : shape) count *= static_cast<uint64_t>(size);
  return count * c10::elementSize(dtype);
}

SafetensorsWriter::SafetensorsWriter(std::string path, std::vector<TensorDescription> tensors,
                                     const std::map<std::string, std::string>& metadata)
    : path_(std::move(path)), tensors_(std::move(tensors)) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const TensorDescription& t : tensors_) {
    if (!names.insert(t.name).second || t.name == "__metadata__") {
      throw UserError("cannot write " + path_ + ": the tensor name '" + t.name +
                      "' is used twice or is reserved");
    }
    const uint64_t bytes = t.bytes();
    header[t.name] = {{"dtype", dtype_name(t.dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string header_text = header.dump();
  header_text.append((8 - header_text.size() % 8) % 8, ' ');  // align data to 8 bytes
  out_.open(path_, std::ios::binary | std::ios::trunc);
  if (!out_) {
    throw UserError("cannot write " + path_ + ": check the directory exists and is writable");
  }
  const uint64_t header_size = header_text.size();
  unsigned char size_bytes[8];
  for (int i = 0; i < 8; ++i) size_bytes[i] = static_cast<unsigned char>(header_size >> (8 * i));
  out_.write(reinterpret_cast<const char*>(size_bytes), 8);
  out_.write(header_text.data(), static_cast<std::streamsize>(header_text.size()));
}

SafetensorsWriter::~SafetensorsWriter() = default;

const std::string& SafetensorsWriter::next_name() const {
  static const std::string kDone;
  return next_ < tensors_.size() ? tensors_[next_].name : kDone;
}

void SafetensorsWriter::write(const at::Tensor& tensor) {
  TORCH_CHECK(next_ < tensors_.size(), "SafetensorsWriter: ", path_,
              ": more tensors than declared");
  const TensorDescription& expected = tensors_[next_];
  TORCH_CHECK(tensor.scalar_type() == expected.dtype && tensor.sizes().vec() == expected.shape,
              "SafetensorsWriter: ", path_, ": '", expected.name, "' declared ", expected.dtype,
              " ", expected.shape, ", given ", tensor.scalar_type(), " ", tensor.sizes());
  const at::Tensor t = tensor.detach().to(at::kCPU).contiguous();
  out_.write(static_cast<const char*>(t.data_ptr()),
             static_cast<std::streamsize>(expected.bytes()));
  if (!out_) throw UserError("writing " + path_ + " failed: disk full?");
  ++next_;
}

void SafetensorsWriter::finish() {
  TORCH_CHECK(next_ == tensors_.size(), "SafetensorsWriter: ", path_, ": ", tensors_.size() - next_,
              " declared tensors were not written");
  out_.flush();
  if (!out_) throw UserError("writing " + path_ + " failed: disk full?");
  out_.close();
}

ShardedSafetensorsWriter::ShardedSafetensorsWriter(std::string dir,
                                                   const std::vector<TensorDescription>& tensors,
                                                   uint64_t max_shard_bytes,
                                                   std::map<std::string, std::string> metadata)
    : dir_(std::move(dir)), metadata_(std::move(metadata)) {
  if (max_shard_bytes == 0) throw UserError("the maximum shard size must be positive");
  uint64_t current_bytes = 0;
  std::set<std::string> names;
  for (const TensorDescription& t : tensors) {
    if (!names.insert(t.name).second) {
      throw UserError("cannot write a checkpoint in " + dir_ + ": the tensor name '" + t.name +
                      "' is used twice");
    }
    const uint64_t bytes = t.bytes();
    if (shards_.empty() || (!shards_.back().empty() && current_bytes + bytes > max_shard_bytes)) {
      shards_.emplace_back();
      current_bytes = 0;
    }
    shards_.back().push_back(t);
    current_bytes += bytes;
    total_bytes_ += bytes;
  }
  if (shards_.empty()) shards_.emplace_back();
  open_next();
}

ShardedSafetensorsWriter::~ShardedSafetensorsWriter() = default;

std::string ShardedSafetensorsWriter::shard_file(size_t index) const {
  if (shards_.size() == 1) return kSafetensorsSingleName;
  return fmt::format("model-{:05d}-of-{:05d}.safetensors", index + 1, shards_.size());
}

void ShardedSafetensorsWriter::open_next() {
  writer_ = std::make_unique<SafetensorsWriter>(
      (std::filesystem::path(dir_) / shard_file(shard_)).string(), shards_[shard_], metadata_);
  written_ = 0;
}

void ShardedSafetensorsWriter::write(const at::Tensor& tensor) {
  while (written_ == shards_[shard_].size()) {
    TORCH_CHECK(shard_ + 1 < shards_.size(), "ShardedSafetensorsWriter: ", dir_,
                ": more tensors than declared");
    writer_->finish();
    ++shard_;
    open_next();
  }
  writer_->write(tensor);
  ++written_;
}

std::vector<std::string> ShardedSafetensorsWriter::finish() {
  TORCH_CHECK(shard_ + 1 == shards_.size() && written_ == shards_[shard_].size(),
              "ShardedSafetensorsWriter: ", dir_, ": not every declared tensor was written");
  writer_->finish();
  std::vector<std::string> files;
  for (size_t i = 0; i < shards_.size(); ++i) files.push_back(shard_file(i));
  if (shards_.size() == 1) return files;
  nlohmann::ordered_json weight_map = nlohmann::ordered_json::object();
  for (size_t i = 0; i < shards_.size(); ++i) {
    for (const TensorDescription& t : shards_[i]) weight_map[t.name] = shard_file(i);
  }
  const nlohmann::ordered_json index = {{"metadata", {{"total_size", total_bytes_}}},
                                        {"weight_map", weight_map}};
  const std::string index_path = (std::filesystem::path(dir_) / kSafetensorsIndexName).string();
  std::ofstream out(index_path, std::ios::trunc);
  out << index.dump(2) << "\n";
  if (!out) throw UserError("writing " + index_path + " failed: disk full?");
  files.push_back(kSafetensorsIndexName);
  return files;
}

}  // namespace omnirm::io
