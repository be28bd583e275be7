// Implementation of train/optimizer_shards.h.
#include "omnirm/train/optimizer_shards.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/optim/adamw.h>

#include <algorithm>
#include <filesystem>
#include <unordered_map>

#include "omnirm/core/error.h"
#include "omnirm/io/safetensors.h"

namespace omnirm::train {

namespace {

namespace fs = std::filesystem;

const torch::optim::AdamWParamState* adamw_state(torch::optim::Optimizer& optimizer,
                                                 const at::Tensor& param) {
  const auto found = optimizer.state().find(param.unsafeGetTensorImpl());
  if (found == optimizer.state().end()) return nullptr;
  return dynamic_cast<const torch::optim::AdamWParamState*>(found->second.get());
}

// Sets `param`'s AdamW state to the given moments and step.
void set_adamw_state(torch::optim::Optimizer& optimizer, const at::Tensor& param,
                     at::Tensor exp_avg, at::Tensor exp_avg_sq, int64_t step) {
  auto state = std::make_unique<torch::optim::AdamWParamState>();
  state->step(step);
  state->exp_avg(std::move(exp_avg));
  state->exp_avg_sq(std::move(exp_avg_sq));
  optimizer.state()[param.unsafeGetTensorImpl()] = std::move(state);
}

at::Tensor flat_slice(const at::Tensor& tensor, int64_t offset, int64_t length) {
  return tensor.defined() ? tensor.reshape(-1).narrow(0, offset, length) : at::Tensor();
}

}  // namespace

std::string optimizer_shard_name(int64_t rank) {
  return fmt::format("rank-{:05d}-optimizer.safetensors", rank);
}

std::vector<StatePiece> engine_state_pieces(const dist::ZeroEngine& engine,
                                            torch::optim::Optimizer& optimizer,
                                            int64_t* adam_step) {
  std::vector<StatePiece> pieces;
  for (const dist::MasterPiece& master : engine.master_pieces()) {
    const torch::optim::AdamWParamState* state = adamw_state(optimizer, master.master);
    if (state != nullptr) *adam_step = std::max(*adam_step, state->step());
    const dist::FlatUnit& unit = engine.units()[master.unit];
    const dist::FlatRange range{master.flat_begin, master.flat_begin + master.master.numel()};
    for (const dist::ParamPiece& part : dist::pieces_in(unit, range)) {
      const int64_t offset = part.flat_begin - master.flat_begin;
      const int64_t length = part.param_end - part.param_begin;
      StatePiece piece;
      piece.param = engine.specs()[part.param].name;
      piece.begin = part.param_begin;
      piece.master = master.master.narrow(0, offset, length);
      if (state != nullptr) {
        piece.exp_avg = flat_slice(state->exp_avg(), offset, length);
        piece.exp_avg_sq = flat_slice(state->exp_avg_sq(), offset, length);
      }
      pieces.push_back(std::move(piece));
    }
  }
  return pieces;
}

std::vector<StatePiece> replicated_state_pieces(model::RewardModelImpl& model,
                                                torch::optim::Optimizer& optimizer,
                                                int64_t* adam_step) {
  std::unordered_map<const void*, std::string> names;
  for (const auto& item : model.named_parameters()) {
    names[item.value().unsafeGetTensorImpl()] = item.key();
  }
  std::vector<StatePiece> pieces;
  for (const auto& group : optimizer.param_groups()) {
    for (const at::Tensor& param : group.params()) {
      const auto name = names.find(param.unsafeGetTensorImpl());
      TORCH_INTERNAL_ASSERT(name != names.end(), "an optimizer parameter is not the model's");
      StatePiece piece;
      piece.param = name->second;
      piece.master = param.detach().reshape(-1).to(at::kFloat);
      if (const auto* state = adamw_state(optimizer, param)) {
        *adam_step = std::max(*adam_step, state->step());
        piece.exp_avg = state->exp_avg().reshape(-1);
        piece.exp_avg_sq = state->exp_avg_sq().reshape(-1);
      }
      pieces.push_back(std::move(piece));
    }
  }
  return pieces;
}

void write_optimizer_shard(const std::string& path, const std::vector<StatePiece>& pieces,
                           int64_t adam_step) {
  io::NamedTensors tensors;
  for (const char* kind : {"master", "exp_avg", "exp_avg_sq"}) {
    for (const StatePiece& piece : pieces) {
      const at::Tensor& value = std::string(kind) == "master"    ? piece.master
                                : std::string(kind) == "exp_avg" ? piece.exp_avg
                                                                 : piece.exp_avg_sq;
      if (!value.defined()) continue;
      tensors.emplace_back(fmt::format("{}/{}@{}", kind, piece.param, piece.begin),
                           value.to(at::kFloat));
    }
  }
  io::save_safetensors(
      path, tensors,
      {{"format", "omnirm-optimizer-shard"}, {"adam_step", std::to_string(adam_step)}});
}

OptimizerShardReader::OptimizerShardReader(const std::string& dir, int64_t files) : dir_(dir) {
  for (int64_t rank = 0; rank < files; ++rank) {
    const std::string path = (fs::path(dir) / optimizer_shard_name(rank)).string();
    if (!fs::exists(path)) {
      throw UserError(fmt::format(
          "{}: missing; the checkpoint's optimizer state is sharded over {} files and this one "
          "was never written; resume from another checkpoint",
          path, files));
    }
    files_.push_back(std::make_unique<io::SafetensorsMapping>(path));
    const io::SafetensorsMapping& file = *files_.back();
    const auto step = file.header().metadata.find("adam_step");
    if (file.header().metadata.count("format") == 0 || step == file.header().metadata.end()) {
      throw UserError(path + ": not an omnirm optimizer shard (no adam_step in its metadata)");
    }
    adam_step_ = std::max<int64_t>(adam_step_, std::stoll(step->second));
    for (const io::SafetensorsTensorInfo& info : file.header().tensors) {
      const size_t slash = info.name.find('/');
      const size_t at = info.name.rfind('@');
      if (slash == std::string::npos || at == std::string::npos || at < slash ||
          info.shape.size() != 1) {
        throw UserError(path + ": unexpected tensor '" + info.name + "' in an optimizer shard");
      }
      Piece piece;
      piece.begin = std::stoll(info.name.substr(at + 1));
      piece.end = piece.begin + info.shape[0];
      piece.file = files_.size() - 1;
      piece.tensor = info.name;
      pieces_[info.name.substr(0, at)].push_back(std::move(piece));
    }
  }
  for (auto& [key, list] : pieces_) {
    std::sort(list.begin(), list.end(),
              [](const Piece& a, const Piece& b) { return a.begin < b.begin; });
  }
}

OptimizerShardReader::~OptimizerShardReader() = default;

bool OptimizerShardReader::contains(const std::string& kind, const std::string& param) const {
  return pieces_.count(kind + "/" + param) != 0;
}

bool OptimizerShardReader::read(const std::string& kind, const std::string& param, int64_t begin,
                                int64_t end, at::Tensor out) const {
  const auto found = pieces_.find(kind + "/" + param);
  if (found == pieces_.end()) return false;
  int64_t covered = 0;
  at::NoGradGuard no_grad;
  for (const Piece& piece : found->second) {
    const int64_t from = std::max(begin, piece.begin);
    const int64_t to = std::min(end, piece.end);
    if (from >= to) continue;
    const at::Tensor source = files_[piece.file]->tensor(piece.tensor);
    out.narrow(0, from - begin, to - from).copy_(source.narrow(0, from - piece.begin, to - from));
    covered += to - from;
  }
  if (covered != end - begin) {
    throw UserError(fmt::format(
        "{}: the optimizer shards hold {} of {} elements [{}, {}) of {} ({}); the checkpoint is "
        "incomplete or its files come from different runs",
        dir_, covered, end - begin, begin, end, param, kind));
  }
  return true;
}

void load_engine_state(const OptimizerShardReader& reader, dist::ZeroEngine& engine,
                       torch::optim::Optimizer& optimizer) {
  at::NoGradGuard no_grad;
  for (const dist::MasterPiece& master : engine.master_pieces()) {
    at::Tensor exp_avg = at::zeros_like(master.master);
    at::Tensor exp_avg_sq = at::zeros_like(master.master);
    bool has_state = false;
    const dist::FlatUnit& unit = engine.units()[master.unit];
    const dist::FlatRange range{master.flat_begin, master.flat_begin + master.master.numel()};
    for (const dist::ParamPiece& part : dist::pieces_in(unit, range)) {
      const std::string& name = engine.specs()[part.param].name;
      const int64_t offset = part.flat_begin - master.flat_begin;
      const int64_t length = part.param_end - part.param_begin;
      if (!reader.read("master", name, part.param_begin, part.param_end,
                       master.master.narrow(0, offset, length))) {
        throw UserError(fmt::format("the checkpoint's optimizer shards hold no {}", name));
      }
      has_state |= reader.read("exp_avg", name, part.param_begin, part.param_end,
                               exp_avg.narrow(0, offset, length));
      reader.read("exp_avg_sq", name, part.param_begin, part.param_end,
                  exp_avg_sq.narrow(0, offset, length));
    }
    if (has_state && reader.adam_step() > 0) {
      set_adamw_state(optimizer, master.master, exp_avg, exp_avg_sq, reader.adam_step());
    }
  }
  engine.load_master();
}

void load_replicated_state(const OptimizerShardReader& reader, model::RewardModelImpl& model,
                           torch::optim::Optimizer& optimizer) {
  at::NoGradGuard no_grad;
  std::unordered_map<const void*, std::string> names;
  for (const auto& item : model.named_parameters()) {
    at::Tensor param = item.value();
    names[param.unsafeGetTensorImpl()] = item.key();
    if (!param.requires_grad()) continue;
    at::Tensor master = at::empty({param.numel()}, param.options().dtype(at::kFloat));
    if (!reader.read("master", item.key(), 0, param.numel(), master)) {
      throw UserError("the checkpoint's optimizer shards hold no " + item.key());
    }
    param.copy_(master.view(param.sizes()));
  }
  for (const auto& group : optimizer.param_groups()) {
    for (const at::Tensor& param : group.params()) {
      const std::string& name = names.at(param.unsafeGetTensorImpl());
      at::Tensor exp_avg = at::zeros_like(param);
      at::Tensor exp_avg_sq = at::zeros_like(param);
      if (!reader.read("exp_avg", name, 0, param.numel(), exp_avg.view(-1))) continue;
      reader.read("exp_avg_sq", name, 0, param.numel(), exp_avg_sq.view(-1));
      if (reader.adam_step() > 0) {
        set_adamw_state(optimizer, param, exp_avg, exp_avg_sq, reader.adam_step());
      }
    }
  }
}

}  // namespace omnirm::train
