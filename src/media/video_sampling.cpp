// The uniform frame-sampling rule shared by video files and frame directories (video.h).
#include <algorithm>
#include <cmath>

#include "omnirm/media/video.h"

namespace omnirm::media {
namespace {

// Timestamps closer than this count as equal, so a target exactly on a frame's time picks
// that frame despite rounding in the time-base conversion.
constexpr double kTimeTolerance = 1e-6;

}  // namespace

std::vector<int64_t> sample_frame_indices(const std::vector<double>& timestamps, double end_time,
                                          const VideoOptions& options) {
  const auto count = static_cast<int64_t>(timestamps.size());
  if (count == 0) return {};
  const double start = timestamps.front();
  const double span = std::max(end_time - start, 0.0);
  int64_t wanted = std::max(options.max_frames, 1);
  if (options.max_fps > 0) {
    wanted = std::min<int64_t>(
        wanted, static_cast<int64_t>(std::floor(span * options.max_fps + kTimeTolerance)));
  }
  wanted = std::max<int64_t>(std::min(wanted, count), 1);

  std::vector<int64_t> indices;
  for (int64_t i = 0; i < wanted; ++i) {
    const double target =
        start + (static_cast<double>(i) + 0.5) * span / static_cast<double>(wanted);
    const auto after =
        std::upper_bound(timestamps.begin(), timestamps.end(), target + kTimeTolerance);
    const int64_t index = std::max<int64_t>(after - timestamps.begin() - 1, 0);
    if (indices.empty() || indices.back() != index) indices.push_back(index);
  }
  return indices;
}

}  // namespace omnirm::media
