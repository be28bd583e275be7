// config.json for the layouts `omnirm export` writes, from the ModelConfig of the model being
// exported: Qwen2ForSequenceClassification (a text model) and MiniCPM-o-2.6 (model_type
// "minicpmo": the LLM's fields at top level, a SigLIP vision_config, a Whisper audio_config).
// Each is read back by io/hf_config.h into the same tower and backbone shapes; fields only
// omnirm has (the point tower, video settings) are not in config.json but in the export's
// omnirm.yaml.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "omnirm/core/config.h"

namespace omnirm::io {

// `vocab_size` the embedding rows; `im_end_id` the pad and end token.
nlohmann::json qwen2_seq_cls_config_json(const ModelConfig& m, int64_t vocab_size,
                                         int32_t im_end_id);

// MiniCPM-o's config.json: architectures ["MiniCPMO"], init_vision / init_audio from the
// towers present, init_tts false, drop_vision_last_layer true (vision_config counts one layer
// more than the checkpoint holds, as MiniCPM-o's own does), query_num, audio_pool_step, and
// omnirm_resampler_hidden when the resampler's width is not the LLM's.
nlohmann::json minicpmo_config_json(const ModelConfig& m, int64_t vocab_size, int32_t im_end_id);

}  // namespace omnirm::io
