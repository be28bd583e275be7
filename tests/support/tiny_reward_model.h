// A tiny randomly initialised text reward model for tests that score rows or serve requests:
// 2 layers, 32 wide, 4 query / 2 key-value heads, with a wide init_std so that rewards differ
// visibly between inputs. Header-only, so that only the test binaries that link the model area
// include it.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>

#include "omnirm/core/config.h"
#include "omnirm/model/reward_model.h"

namespace omnirm::testing {

// In eval mode, over `vocab` ids, initialised from seed `seed`; `backend`: the attention backend.
inline model::RewardModel tiny_model(int64_t vocab, uint64_t seed,
                                     const std::string& backend = "reference") {
  ModelConfig config;
  config.hidden_size = 32;
  config.num_layers = 2;
  config.num_heads = 4;
  config.num_kv_heads = 2;
  config.intermediate_size = 64;
  config.init_std = 0.2;
  config.attention_backend = backend;
  at::manual_seed(seed);
  model::RewardModel model(config, vocab);
  model::initialize_weights(*model);
  model->eval();
  return model;
}

}  // namespace omnirm::testing
