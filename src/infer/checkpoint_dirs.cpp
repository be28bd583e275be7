// Implementation of infer/checkpoint_dirs.h.
#include "omnirm/infer/checkpoint_dirs.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "omnirm/io/atomic_dir.h"

namespace omnirm::infer {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPrefix = "step-";

}  // namespace

std::string checkpoints_dir(const std::string& output_dir) {
  return (fs::path(output_dir) / "checkpoints").string();
}

std::string checkpoint_path(const std::string& output_dir, int64_t step) {
  return (fs::path(checkpoints_dir(output_dir)) / fmt::format("{}{:08d}", kPrefix, step)).string();
}

std::vector<std::pair<int64_t, std::string>> list_checkpoints(const std::string& output_dir) {
  std::vector<std::pair<int64_t, std::string>> found;
  const fs::path dir = checkpoints_dir(output_dir);
  if (!fs::is_directory(dir)) return found;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || name.rfind(kPrefix, 0) != 0 || io::is_temporary_name(name))
      continue;
    if (!fs::exists(entry.path() / "trainer_state.json")) continue;
    found.emplace_back(std::atoll(name.c_str() + std::strlen(kPrefix)), entry.path().string());
  }
  std::sort(found.begin(), found.end());
  return found;
}

std::optional<std::string> latest_checkpoint(const std::string& output_dir) {
  auto found = list_checkpoints(output_dir);
  if (found.empty()) return std::nullopt;
  return found.back().second;
}

std::optional<std::string> checkpoint_dir_in(const std::string& path) {
  if (fs::exists(fs::path(path) / "model.safetensors")) return path;
  return latest_checkpoint(path);
}

}  // namespace omnirm::infer
