// Decoded media → the float layouts the model's adapters take: images and video frames
// resized to S x S, channels first, scaled to [-1, 1]; log-mel clips cut or padded to a fixed
// number of frames; point clouds centred and scaled to the unit ball.
#pragma once

#include <cstdint>
#include <vector>

#include "omnirm/media/image.h"
#include "omnirm/media/log_mel.h"
#include "omnirm/media/point_cloud.h"
#include "omnirm/media/video.h"

namespace omnirm::media {

struct TowerInput {
  std::vector<int64_t> shape;
  std::vector<float> values;  // row-major in `shape`
};

// [3, size, size]: the image stretched to size x size (area filter), (v / 127.5) - 1.
TowerInput image_tower_input(const Image& image, int size);

// [frames, 3, size, size]: the sampled frames in order; a shorter video repeats its last frame.
// Throws UserError naming `name` when the video has no frame.
TowerInput video_tower_input(const Video& video, int size, int frames, const std::string& name);

// [n_mels, frames]: the first `frames` frames; a shorter clip is padded with its own minimum.
TowerInput audio_tower_input(const LogMel& mel, int frames);

// [num_points, 3]: centred on the mean, scaled so the farthest point is at distance 1; a
// cloud with fewer points repeats them cyclically. Throws UserError naming `name` when empty.
TowerInput point_tower_input(const PointCloud& cloud, int num_points, const std::string& name);

}  // namespace omnirm::media
