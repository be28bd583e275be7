// Implementation of model/parameter_count.h: one term per registered parameter of each module
// (layers.cpp, encoder_layer.cpp, vision_tower.cpp, audio_tower.cpp, point_tower.cpp).
#include "omnirm/model/parameter_count.h"

namespace omnirm::model {
namespace {

int64_t linear(int64_t in, int64_t out, bool bias) { return in * out + (bias ? out : 0); }

// EncoderLayer: two LayerNorms, q/k/v/out projections (k without bias in Whisper), fc1, fc2.
int64_t encoder_layer(int64_t hidden, int64_t intermediate, bool key_bias) {
  return 2 * 2 * hidden + 4 * linear(hidden, hidden, true) - (key_bias ? 0 : hidden) +
         linear(hidden, intermediate, true) + linear(intermediate, hidden, true);
}

}  // namespace

ParameterCounts count_parameters(const ModelConfig& m, int64_t vocab_size) {
  ParameterCounts c;
  const int64_t d = m.hidden_size;
  const int64_t kv = d / m.num_heads * m.num_kv_heads;
  c.embeddings = vocab_size * d;
  const int64_t layer = 2 * d + linear(d, d, m.qkv_bias) + 2 * linear(d, kv, m.qkv_bias) +
                        linear(d, d, false) + 3 * linear(d, m.intermediate_size, false);
  c.decoder = m.num_layers * layer + d;
  c.head = linear(d, 1, m.head_bias);
  const bool minicpmo = m.arch == "minicpmo";
  if (m.vision_layers > 0) {
    const int64_t v = m.vision_hidden;
    const int64_t side = m.image_size / m.patch_size;
    int64_t channels = 3 * m.video_temporal_patch;
    if (m.video_motion_channels) channels += 2 * (m.video_temporal_patch - 1);
    c.vision = channels * m.patch_size * m.patch_size * v + v + side * side * v +
               m.vision_layers * encoder_layer(v, m.vision_intermediate, true) + 2 * v;
    const int64_t e = minicpmo ? d : (m.resampler_hidden > 0 ? m.resampler_hidden : v);
    const bool kv_proj = !minicpmo || v != e;
    c.resampler = m.image_tokens * e + (kv_proj ? v * e : 0) + 3 * e * e + 3 * e +
                  linear(e, e, true) + 3 * 2 * e + (minicpmo ? 0 : m.max_frames * e) +
                  linear(e, d, false);
  }
  if (m.audio_layers > 0) {
    const int64_t a = m.audio_hidden;
    c.audio = linear(m.mel_bins * 3, a, true) + linear(a * 3, a, true) +
              m.audio_layers * encoder_layer(a, m.audio_intermediate, false) + 2 * a;
    c.audio_projector = linear(a, d, true) + linear(d, d, true);
  }
  if (m.point_layers > 0) {
    const int64_t p = m.point_hidden;
    c.points = linear(3, p, true) + linear(p, p, true) + linear(3, p, true) +
               m.point_layers * encoder_layer(p, 4 * p, true) + 2 * p + linear(p, d, true);
  }
  return c;
}

}  // namespace omnirm::model
