// Parity with transformers: omnirm's log-mel features of a fixed waveform (0.5 s at 16 kHz: a
// tone, a chirp, noise and a quiet tail that reaches the dynamic-range floor) against the
// input_features of HF's WhisperFeatureExtractor with no padding to 30 s
// (tests/fixtures/parity/log_mel_io.safetensors, from tools/make_parity_fixtures.py).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "omnirm/io/safetensors.h"
#include "omnirm/media/log_mel.h"

namespace {

TEST(HfParity, LogMelMatchesWhisperFeatureExtractor) {
  const std::string path =
      std::string(OMNIRM_SOURCE_DIR) + "/tests/fixtures/parity/log_mel_io.safetensors";
  at::Tensor waveform, expected;
  for (const auto& [name, tensor] : omnirm::io::load_safetensors(path).tensors) {
    if (name == "waveform") waveform = tensor.contiguous();
    if (name == "input_features") expected = tensor;  // [80, frames] fp32
  }
  ASSERT_TRUE(waveform.defined() && expected.defined()) << path;
  const std::vector<float> samples(waveform.data_ptr<float>(),
                                   waveform.data_ptr<float>() + waveform.numel());
  const omnirm::media::LogMel features = omnirm::media::log_mel_spectrogram(samples);
  ASSERT_EQ(features.n_mels, expected.size(0));
  ASSERT_EQ(features.num_frames, expected.size(1));
  const at::Tensor ours =
      at::tensor(features.values, at::kFloat).view({features.n_mels, features.num_frames});
  const double error = (ours.to(at::kDouble) - expected.to(at::kDouble)).abs().max().item<double>();
  std::printf("[ parity   ] %-44s max |omnirm - HF| = %.3g\n", "Whisper log-mel features", error);
  EXPECT_LT(error, 1e-4);
  // The reference is not flat: the floor (max - 8) / 4 + 1 and louder values both occur.
  EXPECT_GT((expected.max() - expected.min()).item<double>(), 1.0);
}

}  // namespace
