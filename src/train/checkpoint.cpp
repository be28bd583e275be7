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
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "omnirm/core/error.h"
#include "omnirm/dist/communicator.h"
#include "omnirm/dist/zero_engine.h"
#include "omnirm/infer/model_weights.h"
#include "omnirm/io/atomic_dir.h"
#include "omnirm/io/safetensors.h"
#include "omnirm/io/safetensors_writer.h"
#include "omnirm/model/lora.h"
#include "omnirm/text/tokenizer.h"
#include "omnirm/train/optimizer_shards.h"
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

// model.safetensors under ZeRO-3: the parameters outside the sharded optimizer first (frozen
// ones, whole on every rank), then unit by unit, each gathered on every rank while rank 0
// writes it, so no rank holds more than one unit beyond its shard.
void write_gathered_weights(const std::string& path, model::RewardModelImpl& model,
                            dist::ZeroEngine& engine, bool main) {
  std::map<std::string, at::Tensor> by_name;
  for (const auto& item : model.named_parameters()) by_name.emplace(item.key(), item.value());
  std::set<std::string> sharded;
  for (const dist::ParamSpec& spec : engine.specs()) sharded.insert(spec.name);
  std::vector<io::TensorDescription> order;
  std::vector<std::string> whole;
  for (const auto& item : model.named_parameters()) {
    if (sharded.count(item.key()) != 0) continue;
    whole.push_back(item.key());
    order.push_back({item.key(), item.value().scalar_type(), item.value().sizes().vec()});
  }
  for (const dist::FlatUnit& unit : engine.units()) {
    for (const dist::FlatParam& p : unit.params) {
      const dist::ParamSpec& spec = engine.specs()[p.index];
      order.push_back({spec.name, spec.dtype, spec.shape});
    }
  }
  std::optional<io::SafetensorsWriter> writer;
  if (main) {
    writer.emplace(path, std::move(order), std::map<std::string, std::string>{{"format", "pt"}});
    for (const std::string& name : whole) writer->write(by_name.at(name));
  }
  for (size_t u = 0; u < engine.units().size(); ++u) {
    engine.gather_unit(u);
    if (main) {
      for (const dist::FlatParam& p : engine.units()[u].params) {
        writer->write(by_name.at(engine.specs()[p.index].name));
      }
    }
    engine.release_unit(u);
  }
  if (main) writer->finish();
}

}  // namespace

void save_checkpoint(const std::string& output_dir, model::RewardModelImpl& model,
                     torch::optim::Optimizer& optimizer, const TrainerState& state,
                     const Config& config, const std::string& tokenizer_path,
                     const CheckpointRanks& ranks) {
  dist::Communicator* comm = ranks.comm;
  const bool main = comm == nullptr || comm->rank() == 0;
  const int64_t rank = comm == nullptr ? 0 : comm->rank();
  const int64_t world = comm == nullptr ? 1 : comm->size();
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

  if (ranks.zero != nullptr && ranks.zero->stage() == 3 && world > 1) {
    write_gathered_weights(file("model.safetensors"), model, *ranks.zero, main);
  } else if (main) {
    io::NamedTensors weights;
    for (const auto& item : model.named_parameters()) {
      weights.emplace_back(item.key(), item.value());
    }
    io::save_safetensors(file("model.safetensors"), weights, {{"format", "pt"}});
  }
  if (main) maybe_die_mid_checkpoint(state.step);

  // Every rank writes its optimizer shard, unless every rank holds the same full state.
  const bool replicated_state =
      ranks.zero != nullptr ? ranks.zero->stage() == 0 : !ranks.sharded_optimizer;
  const int64_t shards = replicated_state ? 1 : world;
  if (main || !replicated_state) {
    int64_t adam_step = 0;
    const std::vector<StatePiece> pieces =
        ranks.zero != nullptr ? engine_state_pieces(*ranks.zero, optimizer, &adam_step)
                              : replicated_state_pieces(model, optimizer, &adam_step);
    write_optimizer_shard(file(optimizer_shard_name(rank)), pieces, adam_step);
  }
  io::save_safetensors(file(rank_file(rank, "rng.safetensors")),
                       {{"cpu_generator", at::detail::getDefaultCPUGenerator().get_state()}});
  {
    const nlohmann::json position = {{"rank", rank},
                                     {"world_size", world},
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
    nlohmann::json trainable = nlohmann::json::array();
    for (const auto& item : model.named_parameters()) {
      if (item.value().requires_grad()) {
        trainable.push_back({item.key(), item.value().sizes().vec()});
      }
    }
    nlohmann::json json = {{"step", state.step},
                           {"total_steps", state.total_steps},
                           {"epoch", state.epoch},
                           {"data_position", position_json(state)},
                           {"seed", state.seed},
                           {"world_size", world},
                           {"zero_stage", state.zero_stage},
                           {"param_dtype", state.param_dtype},
                           {"optimizer_shards", shards},
                           {"trainable", trainable}};
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

TrainerState read_checkpoint_state(const std::string& dir) {
  const std::string path = (fs::path(dir) / "trainer_state.json").string();
  const nlohmann::json json = read_json(path);
  if (!json.contains("optimizer_shards") || !json.contains("trainable")) {
    throw UserError(path +
                    ": written by an earlier omnirm (optimizer.pt instead of optimizer shards); "
                    "it can be evaluated, scored or exported but not resumed");
  }
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
  state.param_dtype = json.value("param_dtype", std::string("fp32"));
  state.optimizer_shards = json.value("optimizer_shards", int64_t{1});
  for (const nlohmann::json& entry : json["trainable"]) {
    if (!entry.is_array() || entry.size() != 2 || !entry[0].is_string()) {
      throw UserError(path + ": 'trainable' must list [name, shape] pairs");
    }
    state.trainable.emplace_back(entry[0].get<std::string>(), entry[1].get<std::vector<int64_t>>());
  }
  state.best_step = json.value("best_step", int64_t{0});
  state.best_value = json.value("best_value", 0.0);
  state.best_metric = json.value("best_metric", std::string());
  state.loss_scale = json.value("loss_scale", 0.0);
  state.skipped_steps = json.value("skipped_steps", int64_t{0});
  if (state.world_size < 1 || state.optimizer_shards < 1) {
    throw UserError(path + ": world_size and optimizer_shards must be at least 1");
  }
  return state;
}

void check_checkpoint_layout(const std::string& dir, const TrainerState& state,
                             model::RewardModelImpl& model) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> mine;
  for (const auto& item : model.named_parameters()) {
    if (item.value().requires_grad()) mine.emplace_back(item.key(), item.value().sizes().vec());
  }
  if (mine == state.trainable) return;
  std::string difference;
  for (size_t i = 0; i < std::max(mine.size(), state.trainable.size()); ++i) {
    const bool in_run = i < mine.size();
    const bool in_checkpoint = i < state.trainable.size();
    if (in_run && in_checkpoint && mine[i] == state.trainable[i]) continue;
    difference = in_checkpoint
                     ? fmt::format("the checkpoint trains {} {}", state.trainable[i].first,
                                   fmt::join(state.trainable[i].second, "x"))
                     : "the checkpoint trains nothing more";
    difference += in_run ? fmt::format(" where this run trains {} {}", mine[i].first,
                                       fmt::join(mine[i].second, "x"))
                         : " where this run trains nothing more";
    break;
  }
  throw UserError(fmt::format(
      "{}: the checkpoint trains {} parameters, this run {} ({}); resume with the model, lora "
      "and freeze_* settings it was made with",
      (fs::path(dir) / "trainer_state.json").string(), state.trainable.size(), mine.size(),
      difference));
}

void load_checkpoint_weights(const std::string& dir, model::RewardModelImpl& model) {
  infer::load_model_weights((fs::path(dir) / "model.safetensors").string(), model);
}

void load_checkpoint_optimizer(const std::string& dir, const TrainerState& state,
                               model::RewardModelImpl& model, torch::optim::Optimizer& optimizer,
                               const CheckpointRanks& ranks) {
  const OptimizerShardReader reader(dir, state.optimizer_shards);
  if (ranks.zero != nullptr) {
    load_engine_state(reader, *ranks.zero, optimizer);
  } else {
    load_replicated_state(reader, model, optimizer);
  }
}

void load_checkpoint_rng(const std::string& dir, const TrainerState& state,
                         const CheckpointRanks& ranks) {
  const fs::path root(dir);
  const int64_t rank = ranks.comm == nullptr ? 0 : ranks.comm->rank();
  const int64_t world = ranks.comm == nullptr ? 1 : ranks.comm->size();
  if (world == state.world_size) {
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
  const std::string rng_file =
      (root / rank_file(rank % state.world_size, "rng.safetensors")).string();
  if (!fs::exists(rng_file)) {
    throw UserError("cannot read " + rng_file + ": the checkpoint is incomplete or missing");
  }
  io::SafetensorsFile rng = io::load_safetensors(rng_file);
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  generator.set_state(rng.tensors.at(0).second);
}

}  // namespace omnirm::train
