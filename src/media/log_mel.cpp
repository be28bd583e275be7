// Whisper-style log-mel spectrogram (the exact recipe is in log_mel.h). The STFT is a plain
// real DFT of n_fft points with a precomputed table of twiddles: for n_fft = 400 that is
// 201 x 400 multiply-adds per frame for each of cos and sin, about 32 M per second of audio.
// Everything is computed in double and stored as float.
#include "omnirm/media/log_mel.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace omnirm::media {
namespace {

constexpr double kMelFloor = 1e-10;
constexpr double kDynamicRangeLog10 = 8.0;

// Slaney's scale: 3 mels per 200 Hz up to 1 kHz, then 27 mels per factor of 6.4.
constexpr double kLinearHzPerMel = 200.0 / 3.0;
constexpr double kLogStartHz = 1000.0;
constexpr double kLogStartMel = kLogStartHz / kLinearHzPerMel;

double log_step() { return std::log(6.4) / 27.0; }

// Index into the signal reflected at both ends without repeating the edge sample
// (numpy.pad mode "reflect"), for any offset: the mirrored signal has period 2 * (size - 1).
size_t reflect_index(int64_t index, int64_t size) {
  if (size == 1) return 0;
  const int64_t period = 2 * (size - 1);
  int64_t folded = index % period;
  if (folded < 0) folded += period;
  return static_cast<size_t>(folded < size ? folded : period - folded);
}

}  // namespace

double hz_to_mel_slaney(double hz) {
  if (hz < kLogStartHz) return hz / kLinearHzPerMel;
  return kLogStartMel + std::log(hz / kLogStartHz) / log_step();
}

double mel_to_hz_slaney(double mel) {
  if (mel < kLogStartMel) return mel * kLinearHzPerMel;
  return kLogStartHz * std::exp(log_step() * (mel - kLogStartMel));
}

std::vector<double> mel_filterbank(const LogMelOptions& options) {
  const int bins = options.n_fft / 2 + 1;
  const int mels = options.n_mels;
  const double nyquist = options.sample_rate / 2.0;

  // n_mels + 2 edge frequencies, equally spaced in mels from 0 Hz to Nyquist.
  std::vector<double> edges(static_cast<size_t>(mels) + 2);
  const double top_mel = hz_to_mel_slaney(nyquist);
  for (size_t i = 0; i < edges.size(); ++i) {
    edges[i] = mel_to_hz_slaney(top_mel * static_cast<double>(i) / (mels + 1));
  }

  std::vector<double> weights(static_cast<size_t>(mels) * bins, 0.0);
  for (int m = 0; m < mels; ++m) {
    const double left = edges[m], centre = edges[m + 1], right = edges[m + 2];
    const double area_norm = 2.0 / (right - left);  // Slaney: each triangle has unit area
    for (int k = 0; k < bins; ++k) {
      const double hz = static_cast<double>(options.sample_rate) * k / options.n_fft;
      const double rising = (hz - left) / (centre - left);
      const double falling = (right - hz) / (right - centre);
      const double weight = std::max(0.0, std::min(rising, falling));
      weights[static_cast<size_t>(m) * bins + k] = weight * area_norm;
    }
  }
  return weights;
}

LogMel log_mel_spectrogram(const std::vector<float>& samples, const LogMelOptions& options) {
  if (options.n_fft <= 0 || options.hop_length <= 0 || options.n_mels <= 0 ||
      options.sample_rate <= 0) {
    throw std::invalid_argument("log_mel_spectrogram: options must be positive");
  }
  const int64_t count = static_cast<int64_t>(samples.size());
  const int64_t frames = count / options.hop_length;
  if (frames == 0) {
    throw std::invalid_argument("log_mel_spectrogram: fewer samples than one hop (" +
                                std::to_string(options.hop_length) + ")");
  }
  const int n_fft = options.n_fft;
  const int bins = n_fft / 2 + 1;
  const int64_t pad = n_fft / 2;

  // Periodic Hann window and the DFT twiddles, indexed by (k * n) mod n_fft.
  std::vector<double> window(static_cast<size_t>(n_fft));
  std::vector<double> cos_table(static_cast<size_t>(n_fft)), sin_table(static_cast<size_t>(n_fft));
  for (int n = 0; n < n_fft; ++n) {
    const double angle = 2.0 * std::numbers::pi * n / n_fft;
    window[n] = 0.5 - 0.5 * std::cos(angle);
    cos_table[n] = std::cos(angle);
    sin_table[n] = std::sin(angle);
  }
  const std::vector<double> filters = mel_filterbank(options);

  std::vector<double> log_mel(static_cast<size_t>(options.n_mels) * frames);
  std::vector<double> windowed(static_cast<size_t>(n_fft));
  std::vector<double> power(static_cast<size_t>(bins));
  for (int64_t t = 0; t < frames; ++t) {
    const int64_t start = t * options.hop_length - pad;
    for (int n = 0; n < n_fft; ++n) {
      windowed[n] = window[n] * samples[reflect_index(start + n, count)];
    }
    for (int k = 0; k < bins; ++k) {
      double re = 0.0, im = 0.0;
      int phase = 0;  // (k * n) mod n_fft, advanced by k each step
      for (int n = 0; n < n_fft; ++n) {
        re += windowed[n] * cos_table[phase];
        im -= windowed[n] * sin_table[phase];
        phase += k;
        if (phase >= n_fft) phase -= n_fft;
      }
      power[k] = re * re + im * im;
    }
    for (int m = 0; m < options.n_mels; ++m) {
      const double* row = filters.data() + static_cast<size_t>(m) * bins;
      double mel = 0.0;
      for (int k = 0; k < bins; ++k) mel += row[k] * power[k];
      log_mel[static_cast<size_t>(m) * frames + t] = std::log10(std::max(mel, kMelFloor));
    }
  }

  const double floor_value = *std::max_element(log_mel.begin(), log_mel.end()) - kDynamicRangeLog10;
  LogMel out;
  out.n_mels = options.n_mels;
  out.num_frames = static_cast<int>(frames);
  out.values.resize(log_mel.size());
  for (size_t i = 0; i < log_mel.size(); ++i) {
    out.values[i] = static_cast<float>((std::max(log_mel[i], floor_value) + 4.0) / 4.0);
  }
  return out;
}

}  // namespace omnirm::media
