// Whisper-style log-mel spectrogram (the exact recipe is in log_mel.h). The STFT is LibTorch's
// (an FFT: O(n_fft log n_fft) per frame, where a plain DFT of 400 points took 201 x 400
// multiply-adds for each of cos and sin); everything is computed in double and stored as float.
#include "omnirm/media/log_mel.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
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

  // The centred frames: the signal reflected at both ends (numpy's "reflect", any length).
  at::Tensor padded = at::empty({count + 2 * pad}, at::kDouble);
  double* out = padded.data_ptr<double>();
  for (int64_t i = 0; i < count + 2 * pad; ++i) out[i] = samples[reflect_index(i - pad, count)];
  const at::Tensor window = at::hann_window(n_fft, /*periodic=*/true, at::kDouble);
  // [bins, frames + 1] complex; Whisper drops the last frame.
  const at::Tensor spectrum =
      at::stft(padded, n_fft, options.hop_length, n_fft, window, /*normalized=*/false,
               /*onesided=*/true, /*return_complex=*/true);
  const at::Tensor power = at::abs(spectrum.narrow(1, 0, frames)).pow(2);  // [bins, frames]
  const std::vector<double> filter_values = mel_filterbank(options);
  const at::Tensor filters =
      at::from_blob(const_cast<double*>(filter_values.data()), {options.n_mels, bins}, at::kDouble);
  at::Tensor log_mel = at::matmul(filters, power).clamp_min(kMelFloor).log10();  // [mels, frames]
  const double floor_value = log_mel.max().item<double>() - kDynamicRangeLog10;
  log_mel = (log_mel.clamp_min(floor_value) + 4.0) / 4.0;

  LogMel result;
  result.n_mels = options.n_mels;
  result.num_frames = static_cast<int>(frames);
  const at::Tensor values = log_mel.to(at::kFloat).contiguous();
  result.values.assign(values.data_ptr<float>(), values.data_ptr<float>() + values.numel());
  return result;
}

LogMel whisper_window_log_mel(const std::vector<float>& samples, const LogMelOptions& options,
                              int window_seconds) {
  const size_t window = static_cast<size_t>(window_seconds) * options.sample_rate;
  if (samples.empty() || samples.size() > window) {
    throw std::invalid_argument("whisper_window_log_mel: a chunk must hold 1 to " +
                                std::to_string(window) + " samples, got " +
                                std::to_string(samples.size()));
  }
  std::vector<float> padded(window, 0.0f);
  std::copy(samples.begin(), samples.end(), padded.begin());
  const LogMel full = log_mel_spectrogram(padded, options);
  const int kept = static_cast<int>((samples.size() + options.hop_length - 1) / options.hop_length);
  LogMel cut;
  cut.n_mels = full.n_mels;
  cut.num_frames = kept;
  cut.values.resize(static_cast<size_t>(full.n_mels) * kept);
  for (int m = 0; m < full.n_mels; ++m)
    std::copy_n(full.values.begin() + static_cast<size_t>(m) * full.num_frames, kept,
                cut.values.begin() + static_cast<size_t>(m) * kept);
  return cut;
}

}  // namespace omnirm::media
