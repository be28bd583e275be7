// cuDNN's benchmark mode for the media towers' convolution stems (the vision patch embedding, the
// audio encoder's two 1-D convolutions): on CUDA, cuDNN then times its algorithms once per input
// shape and keeps the fastest. That pays only where the shapes repeat: omnirm's own towers see
// every image and video frame at model.image_size² and every clip at model.audio_frames, so a
// run meets a handful of shapes (one per number of items in a micro-batch) and tunes each once.
#pragma once

#include <c10/core/Device.h>

#include "omnirm/core/config.h"

namespace omnirm::model {

// Whether the vision and audio stems of `config` see inputs of fixed size (and the model has at
// least one of those towers).
bool tower_stems_have_fixed_shapes(const ModelConfig& config);

// Turns cuDNN's benchmark mode on for a run on `device` when the stems have fixed shapes and
// LibTorch has cuDNN; returns whether it did. Process-wide (LibTorch's global context).
bool use_cudnn_autotuning(const ModelConfig& config, at::Device device);

}  // namespace omnirm::model
