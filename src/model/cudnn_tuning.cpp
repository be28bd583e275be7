// Implementation of model/cudnn_tuning.h.
#include "omnirm/model/cudnn_tuning.h"

#include <ATen/Context.h>

namespace omnirm::model {

bool tower_stems_have_fixed_shapes(const ModelConfig& config) {
  // Both towers resize or pad every input to one size fixed by the config.
  return config.vision_layers > 0 || config.audio_layers > 0;
}

bool use_cudnn_autotuning(const ModelConfig& config, at::Device device) {
  if (!device.is_cuda() || !at::globalContext().hasCuDNN() ||
      !tower_stems_have_fixed_shapes(config)) {
    return false;
  }
  at::globalContext().setBenchmarkCuDNN(true);
  return true;
}

}  // namespace omnirm::model
