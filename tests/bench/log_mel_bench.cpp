// omnirm_bench_log_mel: the loader's log-mel features (media/log_mel.h, an FFT through
// LibTorch's stft) against the direct DFT they replaced, timed side by side in one run on the
// same audio, printing both times, the ratio and the largest difference of their features.
//   omnirm_bench_log_mel [--seconds 30] [--repeats 3]
// The baseline is kept here: 201 x 400 multiply-adds per frame for each of cos and sin, with a
// precomputed table of twiddles, in float64 — the algorithm log_mel.cpp used before.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numbers>
#include <string>
#include <vector>

#include "omnirm/media/log_mel.h"

namespace {

using omnirm::media::LogMel;
using omnirm::media::LogMelOptions;

size_t reflect_index(int64_t index, int64_t size) {
  const int64_t period = 2 * (size - 1);
  int64_t folded = index % period;
  if (folded < 0) folded += period;
  return static_cast<size_t>(folded < size ? folded : period - folded);
}

// The direct-DFT baseline (same recipe as log_mel_spectrogram).
LogMel direct_dft_log_mel(const std::vector<float>& samples, const LogMelOptions& o) {
  const auto count = static_cast<int64_t>(samples.size());
  const int64_t frames = count / o.hop_length;
  const int n_fft = o.n_fft, bins = n_fft / 2 + 1;
  std::vector<double> window(n_fft), cos_table(n_fft), sin_table(n_fft);
  for (int n = 0; n < n_fft; ++n) {
    const double angle = 2.0 * std::numbers::pi * n / n_fft;
    window[n] = 0.5 - 0.5 * std::cos(angle);
    cos_table[n] = std::cos(angle);
    sin_table[n] = std::sin(angle);
  }
  const std::vector<double> filters = omnirm::media::mel_filterbank(o);
  std::vector<double> log_mel(static_cast<size_t>(o.n_mels) * frames), windowed(n_fft), power(bins);
  for (int64_t t = 0; t < frames; ++t) {
    const int64_t start = t * o.hop_length - n_fft / 2;
    for (int n = 0; n < n_fft; ++n)
      windowed[n] = window[n] * samples[reflect_index(start + n, count)];
    for (int k = 0; k < bins; ++k) {
      double re = 0.0, im = 0.0;
      int phase = 0;
      for (int n = 0; n < n_fft; ++n) {
        re += windowed[n] * cos_table[phase];
        im -= windowed[n] * sin_table[phase];
        phase += k;
        if (phase >= n_fft) phase -= n_fft;
      }
      power[k] = re * re + im * im;
    }
    for (int m = 0; m < o.n_mels; ++m) {
      double mel = 0.0;
      for (int k = 0; k < bins; ++k) mel += filters[static_cast<size_t>(m) * bins + k] * power[k];
      log_mel[static_cast<size_t>(m) * frames + t] = std::log10(std::max(mel, 1e-10));
    }
  }
  const double floor_value = *std::max_element(log_mel.begin(), log_mel.end()) - 8.0;
  LogMel out;
  out.n_mels = o.n_mels;
  out.num_frames = static_cast<int>(frames);
  for (double v : log_mel)
    out.values.push_back(static_cast<float>((std::max(v, floor_value) + 4.0) / 4.0));
  return out;
}

template <typename F>
double best_seconds(int repeats, F&& run) {
  double best = 1e30;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    best = std::min(
        best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 30.0;
  int repeats = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0)
      seconds = std::stod(argv[i + 1]);
    else if (std::strcmp(argv[i], "--repeats") == 0)
      repeats = std::stoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: omnirm_bench_log_mel [--seconds S] [--repeats N]\n");
      return 2;
    }
  }
  const LogMelOptions options;
  std::vector<float> samples(static_cast<size_t>(seconds * options.sample_rate));
  for (size_t i = 0; i < samples.size(); ++i) {
    const double t = double(i) / options.sample_rate;
    samples[i] =
        static_cast<float>(0.3 * std::sin(2 * std::numbers::pi * (220 + 40 * std::floor(t)) * t) +
                           0.05 * std::sin(12345.678 * double(i * i % 9973)));
  }
  LogMel baseline, fft;
  const double dft_s =
      best_seconds(repeats, [&] { baseline = direct_dft_log_mel(samples, options); });
  const double fft_s =
      best_seconds(repeats, [&] { fft = omnirm::media::log_mel_spectrogram(samples, options); });
  double worst = 0.0;
  for (size_t i = 0; i < fft.values.size(); ++i)
    worst = std::max(worst, double(std::abs(fft.values[i] - baseline.values[i])));
  std::printf("log-mel of %.1f s of 16 kHz audio (%d frames), best of %d:\n", seconds,
              fft.num_frames, repeats);
  std::printf("  direct DFT (baseline) %.4f s\n  FFT (stft)            %.4f s\n", dft_s, fft_s);
  std::printf("  speed-up %.1fx; features max |diff| %.2g\n", dft_s / fft_s, worst);
  return worst < 1e-4 ? 0 : 1;
}
