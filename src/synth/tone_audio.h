// The audio world of ta2t and t2a: 1 s of 16 kHz mono holding one, two or three beeps of a
// low (about 330 Hz) or high (about 1320 Hz) sine tone, played quietly or loudly. A clip's
// timing and exact pitch depend only on its split, pitch, beep count and variant, so the loud
// and quiet versions of a clip differ in amplitude alone. One variant in three is FLAC, the
// others WAV.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "synth_common.h"

namespace omnirm::synth::detail {

inline constexpr std::array<std::string_view, 2> kPitchNames = {"low", "high"};
inline constexpr std::array<std::string_view, 3> kBeepCountWords = {"one", "two", "three"};
inline constexpr std::array<std::string_view, 2> kLoudnessNames = {"quiet", "loud"};
inline constexpr int kToneVariants = 24;
inline constexpr int kToneSampleRate = 16000;

struct ToneClip {
  int pitch = 0;     // index into kPitchNames
  int beeps = 0;     // beep count - 1, index into kBeepCountWords
  int loudness = 0;  // index into kLoudnessNames
  int variant = 0;   // 0 .. kToneVariants - 1
};

// kToneSampleRate samples in [-1, 1].
std::vector<float> synthesize_tone(const ToneClip& clip, Split split, uint64_t seed);

// media/audio/<split>/<stem>.wav (or .flac; opaque stem, see media_stem), written on first
// use.
std::string tone_clip_file(MediaPool& pool, const ToneClip& clip, Split split, uint64_t seed);

// Rows: pitches; columns: beep counts. Eval holds one count per pitch, the two different.
ComboGrid tone_grid(uint64_t seed, bool hold_out);

}  // namespace omnirm::synth::detail
