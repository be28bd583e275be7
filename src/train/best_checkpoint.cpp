// Implementation of train/best_checkpoint.h. The swap uses renameat2(RENAME_EXCHANGE), which
// exchanges the new directory with the old best in one step; where the filesystem lacks it,
// the old best is first renamed aside (a kill between the two renames then leaves no best/,
// only the complete new one under its temporary name, removed as stale by the next prune).
#include "omnirm/train/best_checkpoint.h"

#include <fcntl.h>
#include <stdio.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "omnirm/core/error.h"
#include "omnirm/io/atomic_dir.h"
#include "omnirm/io/safetensors.h"
#include "omnirm/text/tokenizer.h"
#include "omnirm/train/checkpoint.h"

namespace omnirm::train {
namespace {

namespace fs = std::filesystem;

std::string temporary_path(const std::string& final_path, const char* what) {
  return final_path + "." + what + ".tmp-" + std::to_string(::getpid());
}

// Swaps `built` into place as `final_path`; removes what was there before.
void swap_into_place(const std::string& built, const std::string& final_path) {
  if (!fs::exists(final_path)) {
    fs::rename(built, final_path);
  } else if (::renameat2(AT_FDCWD, built.c_str(), AT_FDCWD, final_path.c_str(), RENAME_EXCHANGE) ==
             0) {
    fs::remove_all(built);  // now the previous best
  } else {
    const std::string aside = temporary_path(final_path, "old");
    fs::remove_all(aside);
    fs::rename(final_path, aside);
    fs::rename(built, final_path);
    fs::remove_all(aside);
  }
  io::fsync_path(fs::path(final_path).parent_path().string());
}

// Builds best/ under a temporary name with `fill(dir)`, adds best.json, syncs, swaps it in.
void publish(const std::string& output_dir, const BestRecord& record,
             const std::function<void(const fs::path& dir)>& fill) {
  const std::string final_path = best_checkpoint_path(output_dir);
  const std::string built = temporary_path(final_path, "new");
  fs::remove_all(built);
  fs::create_directories(built);
  try {
    fill(built);
    {
      std::ofstream out(fs::path(built) / "best.json");
      out << nlohmann::json{{"step", record.step},
                            {"metric", record.metric},
                            {"value", record.value}}
                 .dump(2)
          << "\n";
      if (!out) throw UserError("cannot write " + built + "/best.json: disk full?");
    }
    for (const auto& entry : fs::directory_iterator(built)) io::fsync_path(entry.path().string());
    io::fsync_path(built);
    swap_into_place(built, final_path);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(built, ignored);
    throw;
  }
}

}  // namespace

std::string best_checkpoint_path(const std::string& output_dir) {
  return (fs::path(checkpoints_dir(output_dir)) / "best").string();
}

bool is_better_value(double value, double best, const std::string& mode) {
  return mode == "min" ? value < best : value > best;
}

void publish_best_from_checkpoint(const std::string& output_dir, const std::string& step_dir,
                                  const BestRecord& record) {
  publish(output_dir, record, [&](const fs::path& dir) {
    for (const auto& entry : fs::directory_iterator(step_dir)) {
      if (!entry.is_regular_file()) continue;
      const fs::path target = dir / entry.path().filename();
      std::error_code link_error;
      fs::create_hard_link(entry.path(), target, link_error);
      if (link_error) fs::copy_file(entry.path(), target);
    }
  });
}

void publish_best_from_model(const std::string& output_dir, model::RewardModelImpl& model,
                             const Config& config, const std::string& tokenizer_path,
                             const BestRecord& record) {
  publish(output_dir, record, [&](const fs::path& dir) {
    io::NamedTensors weights;
    for (const auto& item : model.named_parameters())
      weights.emplace_back(item.key(), item.value());
    io::save_safetensors((dir / "model.safetensors").string(), weights, {{"format", "pt"}});
    {
      std::ofstream out(dir / "config.yaml");
      out << dump_config(config);
    }
    fs::copy_file(tokenizer_path, dir / text::checkpoint_tokenizer_name(tokenizer_path));
  });
}

std::optional<BestRecord> read_best_record(const std::string& output_dir) {
  const fs::path file = fs::path(best_checkpoint_path(output_dir)) / "best.json";
  std::ifstream in(file);
  if (!in) return std::nullopt;
  const nlohmann::json json = nlohmann::json::parse(in, nullptr, false);
  if (!json.is_object()) return std::nullopt;
  return BestRecord{json.value("step", int64_t{0}), json.value("metric", std::string()),
                    json.value("value", 0.0)};
}

}  // namespace omnirm::train
