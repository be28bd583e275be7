// Whisper-style log-mel features from 16 kHz mono audio:
//   frames  : centred STFT, the signal reflect-padded by n_fft/2 on each side, a periodic
//             Hann window of n_fft (400 = 25 ms) samples, hop 160 (10 ms); Whisper drops the
//             last frame, so num_frames = num_samples / hop (integer division)
//   power   : |FFT|^2 of bins 0..n_fft/2 (LibTorch's stft, in float64)
//   mel     : n_mels (80) triangular filters on the Slaney mel scale, each scaled to unit
//             area (librosa.filters.mel(sr, n_fft, n_mels) defaults: fmin 0, fmax sr/2,
//             htk=False, norm="slaney")
//   log     : log10(max(mel, 1e-10)), clamped below at (global max - 8), then (x + 4) / 4.
// log_mel_spectrogram applies no padding to 30 s: the output covers exactly the given audio.
// whisper_window_log_mel is what MiniCPM-o's processor computes instead (WhisperFeatureExtractor
// with padding="max_length", then the features cut to the audio's own frames).
#pragma once

#include <cstddef>
#include <vector>

namespace omnirm::media {

struct LogMelOptions {
  int sample_rate = 16000;
  int n_fft = 400;
  int hop_length = 160;
  int n_mels = 80;
};

// values[m * num_frames + t]: shape [n_mels, num_frames], float32, row-major.
struct LogMel {
  int n_mels = 0;
  int num_frames = 0;
  std::vector<float> values;

  float at(int mel, int frame) const {
    return values[static_cast<size_t>(mel) * num_frames + frame];
  }
  size_t byte_size() const { return values.size() * sizeof(float); }
};

// Features of `samples` (mono, at options.sample_rate). Throws std::invalid_argument when
// there are fewer than hop_length samples (no whole frame) or the options are inconsistent.
LogMel log_mel_spectrogram(const std::vector<float>& samples, const LogMelOptions& options = {});

// MiniCPM-o's features of one chunk of at most window_seconds (30 s) of audio: the samples
// zero-padded to the whole window, features of the window (its own dynamic-range floor), then
// the first ceil(samples / hop_length) frames. Throws std::invalid_argument when the chunk is
// empty or longer than the window.
LogMel whisper_window_log_mel(const std::vector<float>& samples, const LogMelOptions& options = {},
                              int window_seconds = 30);

// The mel filterbank: weights[m * (n_fft / 2 + 1) + k], shape [n_mels, n_fft / 2 + 1].
std::vector<double> mel_filterbank(const LogMelOptions& options = {});

// Slaney's mel scale (linear below 1 kHz, logarithmic above), as librosa with htk=False.
double hz_to_mel_slaney(double hz);
double mel_to_hz_slaney(double mel);

}  // namespace omnirm::media
