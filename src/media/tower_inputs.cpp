// Implementation of media/tower_inputs.h.
#include "omnirm/media/tower_inputs.h"

#include <algorithm>
#include <cmath>

#include "omnirm/core/error.h"

namespace omnirm::media {

namespace {

// Appends the image as [3, size, size] in [-1, 1].
void append_chw(const Image& image, int size, std::vector<float>& out) {
  const Image resized =
      (image.width == size && image.height == size) ? image : resize_image_area(image, size, size);
  const size_t plane = static_cast<size_t>(size) * size;
  const size_t base = out.size();
  out.resize(base + 3 * plane);
  for (size_t p = 0; p < plane; ++p) {
    for (size_t c = 0; c < 3; ++c) {
      out[base + c * plane + p] = float(resized.pixels[p * 3 + c]) / 127.5f - 1.0f;
    }
  }
}

}  // namespace

TowerInput image_tower_input(const Image& image, int size) {
  TowerInput input;
  input.shape = {3, size, size};
  append_chw(image, size, input.values);
  return input;
}

TowerInput video_tower_input(const Video& video, int size, int frames, const std::string& name) {
  if (video.frames.empty()) {
    throw UserError(name + ": the video has no frame to sample; give a video with frames");
  }
  TowerInput input;
  input.shape = {frames, 3, size, size};
  input.values.reserve(static_cast<size_t>(frames) * 3 * size * size);
  for (int f = 0; f < frames; ++f) {
    const size_t source = std::min(static_cast<size_t>(f), video.frames.size() - 1);
    append_chw(video.frames[source].image, size, input.values);
  }
  return input;
}

TowerInput audio_tower_input(const LogMel& mel, int frames) {
  TowerInput input;
  input.shape = {mel.n_mels, frames};
  const float floor_value =
      mel.values.empty() ? 0.0f : *std::min_element(mel.values.begin(), mel.values.end());
  input.values.assign(static_cast<size_t>(mel.n_mels) * frames, floor_value);
  const int kept = std::min(frames, mel.num_frames);
  for (int m = 0; m < mel.n_mels; ++m) {
    for (int t = 0; t < kept; ++t) input.values[static_cast<size_t>(m) * frames + t] = mel.at(m, t);
  }
  return input;
}

TowerInput point_tower_input(const PointCloud& cloud, int num_points, const std::string& name) {
  const size_t n = cloud.xyz.size() / 3;
  if (n == 0) throw UserError(name + ": the 3D file has no points; give a mesh or point cloud");
  TowerInput input;
  input.shape = {num_points, 3};
  input.values.resize(static_cast<size_t>(num_points) * 3);
  double mean[3] = {0, 0, 0};
  for (size_t i = 0; i < n; ++i) {
    for (size_t c = 0; c < 3; ++c) mean[c] += cloud.xyz[i * 3 + c];
  }
  for (double& m : mean) m /= std::max<double>(double(n), 1.0);
  double radius = 0.0;
  for (size_t i = 0; i < n; ++i) {
    double r2 = 0.0;
    for (size_t c = 0; c < 3; ++c) {
      const double d = cloud.xyz[i * 3 + c] - mean[c];
      r2 += d * d;
    }
    radius = std::max(radius, std::sqrt(r2));
  }
  const double scale = radius > 0.0 ? 1.0 / radius : 1.0;
  for (size_t i = 0; i < static_cast<size_t>(num_points); ++i) {
    for (size_t c = 0; c < 3; ++c) {
      input.values[i * 3 + c] = float((cloud.xyz[(i % n) * 3 + c] - mean[c]) * scale);
    }
  }
  return input;
}

}  // namespace omnirm::media
