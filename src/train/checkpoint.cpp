// Implementation of train/checkpoint.h.
#include "omnirm/train/checkpoint.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/serialize.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "omnirm/core/error.h"
#include "omnirm/dist/communicator.h"
#include "omnirm/infer/model_weights.h"
#include "omnirm/io/atomic_dir.h"
#include "omnirm/io/safetensors.h"
#include "omnirm/model/lora.h"
#include "omnirm/text/tokenizer.h"
#include "omnirm/train/trainer.h"

namespace omnirm::train {

namespace fs = std::filesystem;

namespace {

// Fault injection for the crash-safety tests: OMNIRM_FAULT_KILL_IN_CHECKPOINT=<step> sends
// SIGKILL to this process half-way through writing that step's checkpoint.
void maybe_die_mid_checkpoint(int64_t step) {
  const char* value = std::getenv("OMNIRM_FAULT_KILL_IN_CHECKPOINT");
  if (value != nullptr && std::atoll(value) == step) std::raise(SIGKILL);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError("cannot read " + path + ": the checkpoint is incomplete or missing");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

nlohmann::json read_json(const std::string& path) {
  nlohmann::json json = nlohmann::json::parse(read_text(path), nullptr, false);
  if (!json.is_object()) throw UserError(path + ": not valid JSON");
  return json;
}

// "rank-00003-<name>": a file one rank writes for itself.
// The loader position as a JSON value (an empty object before any data was read).
nlohmann::json position_json(const TrainerState& state) {
  if (state.data_position.empty()) return nlohmann::json::object();
  return nlohmann::json::parse(state.data_position);
}

std::string rank_file(int64_t rank, const std::string& name) {
  return fmt::format("rank-{:05d}-{}", rank, name);
}

}  // namespace

void save_checkpoint(const std::string& output_dir, model::RewardModelImpl& model,
                     torch::optim::Optimizer& optimizer, const TrainerState& state,
                     const Config& config, const std::string& tokenizer_path,
                     const CheckpointRanks& ranks) {
  dist::Communicator* comm = ranks.comm;
  const bool main = comm == nullptr || comm->rank() == 0;
  std::optional<io::AtomicDirectory> dir;
  std::string temp_dir;
  if (main) {
    fs::create_directories(checkpoints_dir(output_dir));
    dir.emplace(checkpoint_path(output_dir, state.step));
    temp_dir = fs::path(dir->file("")).parent_path().string();
  }
  if (comm != nullptr) {
    temp_dir = comm->share_from_rank0(fmt::format("checkpoint/step-{}", state.step), temp_dir);
  }
  auto file = [&](const std::string& name) { return (fs::path(temp_dir) / name).string(); };

  if (main) {
    io::NamedTensors weights;
    for (const auto& item : model.named_parameters()) {
      weights.emplace_back(item.key(), item.value());
    }
    io::save_safetensors(file("model.safetensors"), weights, {{"format", "pt"}});
    maybe_die_mid_checkpoint(state.step);
  }
  if (comm == nullptr) {
    torch::save(optimizer, file("optimizer.pt"));
    io::save_safetensors(file("rng.safetensors"),
                         {{"cpu_generator", at::detail::getDefaultCPUGenerator().get_state()}});
  } else {
    const int64_t rank = comm->rank();
    if (ranks.sharded_optimizer) {
      torch::save(optimizer, file(rank_file(rank, "optimizer.pt")));
    } else if (main) {
      torch::save(optimizer, file("optimizer.pt"));
    }
    io::save_safetensors(file(rank_file(rank, "rng.safetensors")),
                         {{"cpu_generator", at::detail::getDefaultCPUGenerator().get_state()}});
    const nlohmann::json position = {{"rank", rank},
                                     {"world_size", comm->size()},
                                     {"step", state.step},
                                     {"data_position", position_json(state)}};
    std::ofstream out(file(rank_file(rank, "data.json")));
    out << position.dump(2) << "\n";
  }
  if (main) {
    {
      std::ofstream out(file("config.yaml"));
      out << dump_config(config);
    }
    fs::copy_file(tokenizer_path, file(text::checkpoint_tokenizer_name(tokenizer_path)));
  }
  if (comm != nullptr) {
    comm->barrier(
        fmt::format("the checkpoint of step {} (waiting for every rank's files)", state.step));
  }
  if (main) {
    nlohmann::json json = {{"step", state.step},
                           {"total_steps", state.total_steps},
                           {"epoch", state.epoch},
                           {"data_position", position_json(state)},
                           {"seed", state.seed},
                           {"world_size", state.world_size},
                           {"zero_stage", state.zero_stage}};
    if (state.best_step > 0) {
      json["best_step"] = state.best_step;
      json["best_value"] = state.best_value;
      json["best_metric"] = state.best_metric;
    }
    if (state.loss_scale > 0.0) {
      json["loss_scale"] = state.loss_scale;
      json["skipped_steps"] = state.skipped_steps;
    }
    {
      std::ofstream out(file("trainer_state.json"));
      out << json.dump(2) << "\n";
    }
    dir->commit();
  }
  if (comm != nullptr) {
    comm->barrier(
        fmt::format("the checkpoint of step {} (waiting for rank 0 to commit it)", state.step));
  }
}

void prune_checkpoints(const std::string& output_dir, int64_t keep_last) {
  auto found = infer::list_checkpoints(output_dir);
  for (size_t i = 0; i + static_cast<size_t>(keep_last) < found.size(); ++i) {
    fs::remove_all(found[i].second);
  }
  const fs::path dir = checkpoints_dir(output_dir);
  if (!fs::is_directory(dir)) return;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (io::is_temporary_name(entry.path().filename().string())) fs::remove_all(entry.path());
  }
}

TrainerState load_checkpoint(const std::string& dir, model::RewardModelImpl& model,
                             torch::optim::Optimizer& optimizer, const CheckpointRanks& ranks) {
  const fs::path root(dir);
  const nlohmann::json json = read_json((root / "trainer_state.json").string());
  TrainerState state;
  state.step = json.value("step", int64_t{0});
  state.total_steps = json.value("total_steps", int64_t{0});
  state.epoch = json.value("epoch", int64_t{0});
  if (json.contains("data_position") && json["data_position"].is_object()) {
    state.data_position = json["data_position"].dump();
  }
  state.seed = json.value("seed", int64_t{0});
  state.world_size = json.value("world_size", int64_t{1});
  state.zero_stage = json.value("zero_stage", int64_t{0});
  state.best_step = json.value("best_step", int64_t{0});
  state.best_value = json.value("best_value", 0.0);
  state.best_metric = json.value("best_metric", std::string());
  state.loss_scale = json.value("loss_scale", 0.0);
  state.skipped_steps = json.value("skipped_steps", int64_t{0});

  dist::Communicator* comm = ranks.comm;
  const int64_t world_size = comm == nullptr ? 1 : comm->size();
  if (state.world_size != world_size) {
    throw UserError(fmt::format(
        "{}: the checkpoint was written by {} rank(s) but this run has {}; resume with the same "
        "number of processes (omnirm launch --nproc-per-node x --nnodes)",
        dir, state.world_size, world_size));
  }
  const int64_t zero_stage = ranks.sharded_optimizer ? 1 : 0;
  if (world_size > 1 && state.zero_stage != zero_stage) {
    throw UserError(fmt::format(
        "{}: the checkpoint was written with dist.zero_stage={} but this run has {}; resume "
        "with --set dist.zero_stage={}",
        dir, state.zero_stage, zero_stage, state.zero_stage));
  }

  infer::load_model_weights((root / "model.safetensors").string(), model);
  std::string optimizer_file = (root / "optimizer.pt").string();
  std::string rng_file = (root / "rng.safetensors").string();
  if (comm != nullptr) {
    const int64_t rank = comm->rank();
    if (ranks.sharded_optimizer) optimizer_file = (root / rank_file(rank, "optimizer.pt")).string();
    rng_file = (root / rank_file(rank, "rng.safetensors")).string();
    const std::string data_file = (root / rank_file(rank, "data.json")).string();
    const nlohmann::json position = read_json(data_file);
    if (!position.contains("data_position") ||
        position["data_position"].dump() != state.data_position) {
      throw UserError(fmt::format(
          "{}: this rank's data position differs from trainer_state.json; the checkpoint is "
          "inconsistent, resume from an earlier one",
          data_file));
    }
  }
  if (!fs::exists(optimizer_file)) {
    throw UserError("cannot read " + optimizer_file + ": the checkpoint is incomplete or missing");
  }
  torch::load(optimizer, optimizer_file);
  io::SafetensorsFile rng = io::load_safetensors(rng_file);
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  generator.set_state(rng.tensors.at(0).second);
  return state;
}

}  // namespace omnirm::train
