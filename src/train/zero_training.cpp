// Implementation of train/zero_training.h.
#include "omnirm/train/zero_training.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <regex>

#include "omnirm/train/trainer.h"

namespace omnirm::train {

namespace {

// Stage 3's schedule for decoder layer i is that of the unit "model.layers.i" (none when the
// layer has nothing to train, e.g. frozen layers).
class EngineBlockHook : public model::BlockHook {
 public:
  EngineBlockHook(dist::ZeroEngine& engine, int64_t blocks) : engine_(engine) {
    for (int64_t i = 0; i < blocks; ++i) {
      units_.push_back(engine.unit_index(fmt::format("model.layers.{}", i)));
    }
  }
  void forward_begin(int64_t block) override { engine_.block_forward_begin(unit(block)); }
  void forward_end(int64_t block) override { engine_.block_forward_end(unit(block)); }
  void backward_begin(int64_t block) override { engine_.block_backward_begin(unit(block)); }
  void backward_end(int64_t block) override { engine_.block_backward_end(unit(block)); }

 private:
  int64_t unit(int64_t block) const {
    return block < static_cast<int64_t>(units_.size()) ? units_[static_cast<size_t>(block)] : -1;
  }
  dist::ZeroEngine& engine_;
  std::vector<int64_t> units_;
};

}  // namespace

bool uses_zero_engine(const Config& config) {
  return config.train.param_dtype == "bf16" || config.dist.zero_stage >= 2;
}

void apply_param_dtype(model::RewardModelImpl& model, const std::string& param_dtype) {
  if (param_dtype != "bf16") return;
  at::NoGradGuard no_grad;
  for (auto& item : model.named_parameters()) {
    if (item.key().starts_with("score.")) continue;
    item.value().set_data(item.value().to(at::kBFloat16));
  }
}

std::string zero_unit_of(const std::string& parameter_name) {
  static const std::regex layer(R"(^(model\.layers\.[0-9]+)\.)");
  std::smatch match;
  if (std::regex_search(parameter_name, match, layer)) return match[1];
  if (parameter_name.starts_with("model.embed_tokens.")) return "model.embed_tokens";
  return "root";
}

std::vector<dist::ParamSpec> trainable_specs(model::RewardModelImpl& model) {
  std::vector<dist::ParamSpec> specs;
  for (const auto& item : model.named_parameters()) {
    const at::Tensor& p = item.value();
    if (!p.requires_grad()) continue;
    const std::string unit = zero_unit_of(item.key());
    specs.push_back({item.key(), p.sizes().vec(), p.scalar_type(), unit, p.dim() >= 2,
                     unit.starts_with("model.layers.")});
  }
  return specs;
}

ZeroTraining::ZeroTraining(model::RewardModelImpl& model, const Config& config,
                           dist::Communicator* comm)
    : model_(model) {
  dist::ZeroOptions options;
  options.stage = config.dist.zero_stage;
  options.reduce_dtype = config.dist.reduce_dtype == "bf16" ? at::kBFloat16 : at::kFloat;
  engine_ = std::make_unique<dist::ZeroEngine>(comm, trainable_parameters(model),
                                               trainable_specs(model), options);
  model_.backbone().set_block_hook(
      std::make_shared<EngineBlockHook>(*engine_, model_.backbone().num_blocks()));
}

ZeroTraining::~ZeroTraining() { model_.backbone().set_block_hook(nullptr); }

std::unique_ptr<torch::optim::Optimizer> ZeroTraining::make_optimizer(
    const TrainConfig& config) const {
  std::vector<at::Tensor> decay, no_decay;
  for (const dist::MasterPiece& piece : engine_->master_pieces()) {
    (piece.decay ? decay : no_decay).push_back(piece.master);
  }
  return make_adamw(decay, no_decay, config);
}

}  // namespace omnirm::train
