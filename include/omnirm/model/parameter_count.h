// Parameter counts of a reward model's parts computed from its config alone, the way the
// modules build them (no tensor is allocated), so that an 8B configuration can be sized on a
// laptop: `omnirm plan`-style questions and the check of a MiniCPM-o-2.6-shaped config against
// the published sizes of its parts. tests/unit/model/parameter_count_test.cpp checks the
// formulas against the parameters of real modules built from small configs.
#pragma once

#include <cstdint>

#include "omnirm/core/config.h"

namespace omnirm::model {

struct ParameterCounts {
  int64_t embeddings = 0;       // model.embed_tokens (vocab x hidden)
  int64_t decoder = 0;          // model.layers.* and model.norm
  int64_t head = 0;             // score.*
  int64_t vision = 0;           // vision_tower.* (SigLIP)
  int64_t resampler = 0;        // resampler.*
  int64_t audio = 0;            // audio_tower.* but its projector (Whisper encoder, trainable)
  int64_t audio_projector = 0;  // audio_tower.audio_projection_layer.*
  int64_t points = 0;           // point_tower.*

  int64_t total() const {
    return embeddings + decoder + head + vision + resampler + audio + audio_projector + points;
  }
};

ParameterCounts count_parameters(const ModelConfig& config, int64_t vocab_size);

}  // namespace omnirm::model
