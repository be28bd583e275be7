// Log-mel features against committed values from an independent numpy implementation
// (tools/make_logmel_reference.py -> tests/fixtures/media/logmel_reference.json), plus
// properties that need no reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numbers>
#include <stdexcept>

#include "omnirm/media/log_mel.h"
#include "support/test_support.h"

namespace omnirm::media {
namespace {

constexpr double kTolerance = 1e-4;

// The fixture's signal (see the generator script), as float32.
std::vector<float> reference_signal() {
  std::vector<float> x(16000);
  for (size_t n = 0; n < x.size(); ++n) {
    const double t = static_cast<double>(n) / 16000.0;
    const double pi = std::numbers::pi;
    double value = 0.5 * std::sin(2 * pi * 440 * t) + 0.25 * std::sin(2 * pi * 2500 * t) +
                   0.2 * std::sin(2 * pi * (200 * t + 2900 * t * t));
    if (t >= 0.9) value = 0.0;
    x[n] = static_cast<float>(value);
  }
  return x;
}

nlohmann::json load_fixture() {
  const std::string path =
      omnirm::testing::source_dir() + "/tests/fixtures/media/logmel_reference.json";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("missing fixture " + path);
  return nlohmann::json::parse(in);
}

TEST(MediaLogMel, MatchesNumpyReference) {
  const nlohmann::json fixture = load_fixture();
  const LogMel features = log_mel_spectrogram(reference_signal());
  ASSERT_EQ(features.n_mels, fixture["n_mels"].get<int>());
  ASSERT_EQ(features.num_frames, fixture["num_frames"].get<int>());
  ASSERT_EQ(features.values.size(), size_t(80) * 100);

  double worst = 0;
  for (const auto& [frame_text, expected] : fixture["frames"].items()) {
    const int frame = std::stoi(frame_text);
    for (int m = 0; m < features.n_mels; ++m) {
      const double difference = std::abs(features.at(m, frame) - expected[m].get<double>());
      worst = std::max(worst, difference);
      ASSERT_LE(difference, kTolerance) << "mel " << m << " frame " << frame;
    }
  }
  const auto& row_means = fixture["mel_row_means"];
  for (int m = 0; m < features.n_mels; ++m) {
    double sum = 0;
    for (int t = 0; t < features.num_frames; ++t) sum += features.at(m, t);
    EXPECT_NEAR(sum / features.num_frames, row_means[m].get<double>(), kTolerance) << "mel " << m;
  }
  const auto& frame_means = fixture["frame_means"];
  for (int t = 0; t < features.num_frames; ++t) {
    double sum = 0;
    for (int m = 0; m < features.n_mels; ++m) sum += features.at(m, t);
    EXPECT_NEAR(sum / features.n_mels, frame_means[t].get<double>(), kTolerance) << "frame " << t;
  }
  RecordProperty("max_abs_difference", std::to_string(worst));
}

TEST(MediaLogMel, FilterbankAndMelScaleMatchReference) {
  const nlohmann::json fixture = load_fixture();
  const std::vector<double> filters = mel_filterbank();
  ASSERT_EQ(filters.size(), size_t(80) * 201);
  for (int m = 0; m < 80; ++m) {
    double sum = 0;
    for (int k = 0; k < 201; ++k) sum += filters[static_cast<size_t>(m) * 201 + k];
    EXPECT_NEAR(sum, fixture["filterbank_row_sums"][m].get<double>(), 1e-8) << "filter " << m;
  }
  for (const auto& [hz_text, mel] : fixture["hz_to_mel"].items()) {
    const double hz = std::stod(hz_text);
    EXPECT_NEAR(hz_to_mel_slaney(hz), mel.get<double>(), 1e-9) << hz << " Hz";
    EXPECT_NEAR(mel_to_hz_slaney(hz_to_mel_slaney(hz)), hz, 1e-6);
  }
}

TEST(MediaLogMel, OneFramePerHopWithTheLastDropped) {
  EXPECT_EQ(log_mel_spectrogram(std::vector<float>(16000, 0.1f)).num_frames, 100);
  EXPECT_EQ(log_mel_spectrogram(std::vector<float>(16159, 0.1f)).num_frames, 100);
  EXPECT_EQ(log_mel_spectrogram(std::vector<float>(16160, 0.1f)).num_frames, 101);
  EXPECT_EQ(log_mel_spectrogram(std::vector<float>(160, 0.1f)).num_frames, 1);
  EXPECT_THROW(log_mel_spectrogram(std::vector<float>(159, 0.1f)), std::invalid_argument);
}

TEST(MediaLogMel, ToneEnergyLandsInTheFilterCentredNearItsFrequency) {
  std::vector<float> tone(8000);
  for (size_t n = 0; n < tone.size(); ++n)
    tone[n] = static_cast<float>(0.5 * std::sin(2 * std::numbers::pi * 1500.0 * n / 16000.0));
  const LogMel features = log_mel_spectrogram(tone);
  const int frame = features.num_frames / 2;
  int loudest = 0;
  for (int m = 1; m < features.n_mels; ++m) {
    if (features.at(m, frame) > features.at(loudest, frame)) loudest = m;
  }
  // Filter m peaks at edge m + 1 of 82 edges equally spaced in mels.
  int nearest = 0;
  double best = 1e9;
  const double top = hz_to_mel_slaney(8000.0);
  for (int m = 0; m < 80; ++m) {
    const double centre = mel_to_hz_slaney(top * (m + 1) / 81.0);
    if (std::abs(centre - 1500.0) < best) {
      best = std::abs(centre - 1500.0);
      nearest = m;
    }
  }
  EXPECT_NEAR(loudest, nearest, 1);
  // The dynamic range is clamped to 8 decades: (max - 8 + 4) / 4 = max_scaled - 2.
  const float max_value = *std::max_element(features.values.begin(), features.values.end());
  const float min_value = *std::min_element(features.values.begin(), features.values.end());
  EXPECT_GE(min_value, max_value - 2.0f - 1e-6f);
}

TEST(MediaLogMel, SilenceIsFlatAtTheFloor) {
  const LogMel features = log_mel_spectrogram(std::vector<float>(3200, 0.0f));
  for (const float value : features.values) EXPECT_FLOAT_EQ(value, (-10.0f + 4.0f) / 4.0f);
}

}  // namespace
}  // namespace omnirm::media
