// Synthesising and pooling the beep clips (see tone_audio.h).
#include "tone_audio.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "omnirm/media/media_write.h"

namespace omnirm::synth::detail {
namespace {

constexpr uint64_t kAudioWorld = 3;
constexpr double kPitchHz[2] = {330.0, 1320.0};
constexpr double kPitchJitter = 0.04;  // relative, per clip
constexpr double kAmplitude[2] = {0.25, 0.8};
constexpr double kBeepSeconds = 0.16;
constexpr double kGapSeconds = 0.12;
constexpr double kFadeSeconds = 0.01;  // raised-cosine edges, so beeps do not click
constexpr int kFlacEvery = 3;          // every third variant is written as FLAC, the others as WAV

}  // namespace

std::vector<float> synthesize_tone(const ToneClip& clip, Split split, uint64_t seed) {
  SynthRandom timing = keyed_random(
      seed, {kAudioWorld, static_cast<uint64_t>(split), static_cast<uint64_t>(clip.pitch),
             static_cast<uint64_t>(clip.beeps), static_cast<uint64_t>(clip.variant)});
  const double hz = kPitchHz[clip.pitch] * (1.0 + uniform(timing, -kPitchJitter, kPitchJitter));
  const double start = uniform(timing, 0.06, 0.18);
  const double amplitude = kAmplitude[clip.loudness];
  std::vector<float> samples(kToneSampleRate, 0.0f);
  for (int beep = 0; beep <= clip.beeps; ++beep) {
    const double begin = start + beep * (kBeepSeconds + kGapSeconds);
    const auto first = static_cast<size_t>(std::lround(begin * kToneSampleRate));
    const auto length = static_cast<size_t>(std::lround(kBeepSeconds * kToneSampleRate));
    for (size_t i = 0; i < length && first + i < samples.size(); ++i) {
      const double t = static_cast<double>(i) / kToneSampleRate;
      const double edge = std::min(t, kBeepSeconds - t) / kFadeSeconds;
      const double envelope = edge >= 1.0 ? 1.0 : 0.5 - 0.5 * std::cos(std::numbers::pi * edge);
      samples[first + i] =
          static_cast<float>(amplitude * envelope * std::sin(2.0 * std::numbers::pi * hz * t));
    }
  }
  return samples;
}

std::string tone_clip_file(MediaPool& pool, const ToneClip& clip, Split split, uint64_t seed) {
  const bool flac = clip.variant % kFlacEvery == kFlacEvery - 1;
  const std::string name =
      std::string("media/audio/") + split_name(split) + "/" +
      media_stem({kAudioWorld, static_cast<uint64_t>(split), static_cast<uint64_t>(clip.pitch),
                  static_cast<uint64_t>(clip.beeps), static_cast<uint64_t>(clip.loudness),
                  static_cast<uint64_t>(clip.variant)}) +
      (flac ? ".flac" : ".wav");
  return pool.file(name, [&](const std::string& path) {
    const std::vector<float> samples = synthesize_tone(clip, split, seed);
    if (flac) {
      media::encode_audio(path, "flac", samples, 1, kToneSampleRate);
    } else {
      media::write_wav(path, samples, 1, kToneSampleRate);
    }
  });
}

ComboGrid tone_grid(uint64_t seed, bool hold_out) {
  return ComboGrid(static_cast<int>(kPitchNames.size()), static_cast<int>(kBeepCountWords.size()),
                   1, seed, kAudioWorld, hold_out);
}

}  // namespace omnirm::synth::detail
