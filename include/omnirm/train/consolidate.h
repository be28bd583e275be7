// A training checkpoint's weights consolidated one tensor at a time, for `omnirm export`: the
// trainable tensors assembled in fp32 from the master pieces of its optimizer shards
// (train/optimizer_shards.h), whatever the world size and ZeRO stage that wrote them, the
// frozen ones read from model.safetensors. Files are memory-mapped, so a consolidation holds
// at most one full tensor (a LoRA merge: the base weight and its two adapter matrices) plus
// the pages of the pieces it is copying.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "omnirm/core/config.h"
#include "omnirm/io/safetensors_mapping.h"
#include "omnirm/text/tokenizer.h"
#include "omnirm/train/checkpoint.h"
#include "omnirm/train/optimizer_shards.h"

namespace omnirm::train {

// The checkpoint directory `path` names (itself, or a run's newest) when it holds sharded
// optimizer state; nothing otherwise (an export, or a checkpoint of an earlier format).
std::optional<std::string> sharded_checkpoint_dir(const std::string& path);

class ConsolidatedCheckpoint {
 public:
  explicit ConsolidatedCheckpoint(const std::string& dir);
  ~ConsolidatedCheckpoint();

  const std::string& dir() const { return dir_; }
  const Config& config() const { return config_; }
  const text::Tokenizer& tokenizer() const { return *tokenizer_; }
  int64_t vocab_size() const { return vocab_size_; }
  // The model's parameters in model.safetensors' order (names and shapes).
  const std::vector<io::SafetensorsTensorInfo>& parameters() const;
  bool has(const std::string& name) const;
  // `name`'s value in fp32: from the master pieces when it trained, else model.safetensors.
  at::Tensor tensor(const std::string& name) const;

 private:
  std::string dir_;
  Config config_;
  std::unique_ptr<text::Tokenizer> tokenizer_;
  int64_t vocab_size_ = 0;
  std::unique_ptr<io::SafetensorsMapping> weights_;
  std::unique_ptr<OptimizerShardReader> shards_;
};

// Writes `checkpoint`'s weights into `out_dir` as `omnirm export` lays them out
// (cli/export_command.cpp): under MiniCPM-o-2.6's names with `minicpmo`, else omnirm's
// (Qwen2 sequence classification), LoRA adapters merged, fp32, in shards of at most
// `max_shard_bytes`, and the value head as value_head.safetensors. Returns the value head's
// bias when the model has one.
std::optional<double> write_consolidated_weights(const ConsolidatedCheckpoint& checkpoint,
                                                 const std::string& out_dir, bool minicpmo,
                                                 uint64_t max_shard_bytes);

}  // namespace omnirm::train
