// The sharded optimizer (dist/zero_engine.h) wired to a reward model. The model's parameters
// are stored in train.param_dtype (bf16: everything but the value head, which stays fp32;
// frozen parts too, so they cost half and hold no gradient or optimizer state); its trainable
// parameters go to the engine in units: one block per decoder layer ("model.layers.i"), the
// token embeddings ("model.embed_tokens", whose gradient comes last), and "root" for the rest
// (final norm, value head, media towers); and the backbone's block hook (model/block_hook.h)
// drives stage 3's gathering around each decoder layer.
//
// Media towers are not blocks: a rank's micro-batch may lack a modality, so a tower
// runs on some ranks and not on others, and collectives must come in the same order on every
// rank. The decoder layers run on every rank in every micro-step.
#pragma once

#include <torch/optim/optimizer.h>

#include <memory>
#include <string>
#include <vector>

#include "omnirm/core/config.h"
#include "omnirm/dist/zero_engine.h"
#include "omnirm/model/reward_model.h"

namespace omnirm::train {

// Whether a run trains through the sharded optimizer: train.param_dtype bf16 or
// dist.zero_stage 2 or 3 (fp32 parameters at stages 0 and 1 keep the replicated path:
// dist::GradSync, dist::ParameterShards and AdamW on the parameters themselves).
bool uses_zero_engine(const Config& config);

// Stores the parameters in `param_dtype` ("fp32" | "bf16"); the value head (score.*) stays
// fp32 either way.
void apply_param_dtype(model::RewardModelImpl& model, const std::string& param_dtype);

// The unit a parameter belongs to: "model.layers.<i>" for decoder layer i,
// "model.embed_tokens", else "root".
std::string zero_unit_of(const std::string& parameter_name);

// The trainable parameters' names and specs, in the model's order.
std::vector<dist::ParamSpec> trainable_specs(model::RewardModelImpl& model);

class ZeroTraining {
 public:
  // Call after the model is on its device, in its param_dtype, with LoRA applied and any
  // checkpoint loaded. Every rank of `comm` (null: one process) at once.
  ZeroTraining(model::RewardModelImpl& model, const Config& config, dist::Communicator* comm);
  ~ZeroTraining();
  ZeroTraining(const ZeroTraining&) = delete;
  ZeroTraining& operator=(const ZeroTraining&) = delete;

  dist::ZeroEngine& engine() { return *engine_; }
  // AdamW over the engine's master pieces, weight decay on the pieces of matrices.
  std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainConfig& config) const;

 private:
  model::RewardModelImpl& model_;
  std::unique_ptr<dist::ZeroEngine> engine_;
};

}  // namespace omnirm::train
