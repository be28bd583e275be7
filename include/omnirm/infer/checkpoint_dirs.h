// Where a training run keeps its checkpoints, read side: <output_dir>/checkpoints/step-NNNNNNNN/,
// complete ones holding trainer_state.json (a temporary directory of an interrupted write is
// never one). Training writes them (train/checkpoint.h); loading a model for scoring finds
// them here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace omnirm::infer {

std::string checkpoints_dir(const std::string& output_dir);
std::string checkpoint_path(const std::string& output_dir, int64_t step);

// The complete checkpoints under output_dir as (step, directory), oldest first.
std::vector<std::pair<int64_t, std::string>> list_checkpoints(const std::string& output_dir);

// The newest complete checkpoint under output_dir, if any.
std::optional<std::string> latest_checkpoint(const std::string& output_dir);

// The checkpoint `path` names: itself when it holds model.safetensors, else a run
// directory's newest checkpoint; nothing when it is neither.
std::optional<std::string> checkpoint_dir_in(const std::string& path);

}  // namespace omnirm::infer
