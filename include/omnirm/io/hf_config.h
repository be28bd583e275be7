// A ModelConfig read from a Hugging Face config.json, so that a checkpoint's weights fit the
// model built for them. Understood: model_type "qwen2" (Qwen2 / Qwen2.5), "llama", and
// "minicpmo" (MiniCPM-o-2.6: the LLM's fields at top level, a SigLIP vision_config, a
// Whisper audio_config; the resampler then works at the LLM's width, model.resampler_hidden =
// hidden_size, unless omnirm_resampler_hidden says otherwise). Fields the model needs and the file
// lacks, and settings omnirm's model cannot reproduce (rope_scaling, sliding-window attention,
// another activation, an attention output bias), are refused with one line naming the file and the
// field. Keys that do not change the weights' shapes or the computation (dtype, token ids, ...) are
// not read. Media settings the checkpoint does not fix keep the values of `base`.
#pragma once

#include <string>

#include "omnirm/core/config.h"

namespace omnirm::io {

// `json_text` is the content of a config.json; `origin` names it in messages.
ModelConfig model_config_from_hf_json(const std::string& json_text, const std::string& origin,
                                      const ModelConfig& base = {});

// Reads `path`: a config.json, or a directory holding one.
ModelConfig load_hf_model_config(const std::string& path, const ModelConfig& base = {});

}  // namespace omnirm::io
