// Audio decoding on files written at test time: WAV by hand, FLAC ("flac") and MP3
// ("libmp3lame") through FFmpeg's encoders. Checks rate, length, mono mixing and content.
#include <gtest/gtest.h>

#include <filesystem>

#include <cmath>

#include "omnirm/media/audio.h"
#include "support/test_support.h"
#include "unit/media/media_writers.h"

namespace omnirm::media {
namespace {

using namespace omnirm::media::testing;

class MediaAudio : public ::testing::Test {
 protected:
  std::string dir_ = omnirm::testing::make_temp_dir("media-audio");
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  void TearDown() override { std::filesystem::remove_all(dir_); }
};

int count_sign_changes(const std::vector<float>& samples, size_t skip) {
  int changes = 0;
  for (size_t i = skip + 1; i + skip < samples.size(); ++i) {
    if ((samples[i - 1] < 0) != (samples[i] < 0)) ++changes;
  }
  return changes;
}

double rms(const std::vector<float>& samples, size_t skip) {
  double sum = 0;
  size_t n = 0;
  for (size_t i = skip; i + skip < samples.size(); ++i, ++n) sum += double(samples[i]) * samples[i];
  return std::sqrt(sum / static_cast<double>(n));
}

std::vector<float> interleave(const std::vector<float>& left, const std::vector<float>& right) {
  std::vector<float> out;
  for (size_t i = 0; i < left.size(); ++i) {
    out.push_back(left[i]);
    out.push_back(right[i]);
  }
  return out;
}

TEST_F(MediaAudio, StereoWavIsResampledTo16kAndChannelsAveraged) {
  // Left 0.6 sin, right 0.2 sin: the mean of channels is 0.4 sin (RMS 0.283).
  const std::vector<float> left = sine(440, 0.6, 1.0, 44100);
  const std::vector<float> right = sine(440, 0.2, 1.0, 44100);
  write_wav(path("tone.wav"), interleave(left, right), 2, 44100);
  const Audio audio = decode_audio(path("tone.wav"));
  EXPECT_EQ(audio.sample_rate, 16000);
  EXPECT_EQ(audio.source_sample_rate, 44100);
  EXPECT_EQ(audio.source_channels, 2);
  EXPECT_NEAR(static_cast<double>(audio.samples.size()), 16000.0, 2.0);
  EXPECT_NEAR(audio.duration_seconds(), 1.0, 1e-3);
  EXPECT_NEAR(rms(audio.samples, 200), 0.4 / std::sqrt(2.0), 0.005);
  EXPECT_NEAR(count_sign_changes(audio.samples, 0), 880, 3);  // 440 Hz: two per period
}

TEST_F(MediaAudio, FlacAt16kRoundTripsSampleForSample) {
  const std::vector<float> source = sine(1000, 0.5, 0.5, 16000);
  encode_audio(path("tone.flac"), "flac", source, 1, 16000);
  const Audio audio = decode_audio(path("tone.flac"));
  EXPECT_EQ(audio.source_sample_rate, 16000);
  ASSERT_EQ(audio.samples.size(), source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    ASSERT_NEAR(audio.samples[i], source[i], 1.0 / 32768 + 1e-6) << "sample " << i;
  }
}

TEST_F(MediaAudio, Mp3DecodesToTheRightLengthAndPitch) {
  encode_audio(path("tone.mp3"), "libmp3lame", sine(440, 0.5, 1.0, 44100), 1, 44100);
  const Audio audio = decode_audio(path("tone.mp3"));
  EXPECT_EQ(audio.sample_rate, 16000);
  EXPECT_EQ(audio.source_sample_rate, 44100);
  // MP3 frames are 1152 samples; gapless trimming may leave part of one.
  EXPECT_NEAR(audio.duration_seconds(), 1.0, 0.03);
  EXPECT_NEAR(count_sign_changes(audio.samples, 800), 880 * (audio.samples.size() - 1600) / 16000.0,
              6);
  EXPECT_NEAR(rms(audio.samples, 800), 0.5 / std::sqrt(2.0), 0.02);
}

TEST_F(MediaAudio, OtherOutputRatesAreHonoured) {
  write_wav(path("tone.wav"), sine(300, 0.5, 0.5, 16000), 1, 16000);
  const Audio audio = decode_audio(path("tone.wav"), {.sample_rate = 8000});
  EXPECT_EQ(audio.sample_rate, 8000);
  EXPECT_NEAR(static_cast<double>(audio.samples.size()), 4000.0, 2.0);
  EXPECT_NEAR(count_sign_changes(audio.samples, 0), 300, 3);
}

}  // namespace
}  // namespace omnirm::media
