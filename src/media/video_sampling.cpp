// The frame-sampling rules shared by video files and frame directories (video.h): omnirm's
// uniform rule and LLaMA-Factory's linspace rule.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "media_common.h"
#include "omnirm/media/video.h"
#include "video_internal.h"

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

std::vector<int64_t> plugin_frame_indices(int64_t declared_frames, double declared_seconds,
                                          const VideoOptions& options) {
  const int64_t most = std::max(options.max_frames, 1);
  std::vector<int64_t> indices;
  if (declared_frames <= 0) {  // the plugin's "infinite video": its first frames
    for (int64_t i = 0; i < most; ++i) indices.push_back(i);
    return indices;
  }
  const auto by_time = static_cast<int64_t>(std::floor(declared_seconds * options.max_fps));
  const int64_t wanted = std::max<int64_t>(std::min({declared_frames, most, by_time}), 0);
  // numpy.linspace(0, M − 1, n): i · step, the last exactly M − 1; astype(int32) truncates.
  const double step =
      wanted > 1 ? static_cast<double>(declared_frames - 1) / static_cast<double>(wanted - 1) : 0;
  for (int64_t i = 0; i < wanted; ++i) {
    indices.push_back(i == wanted - 1 && wanted > 1
                          ? declared_frames - 1
                          : static_cast<int64_t>(static_cast<double>(i) * step));
  }
  return indices;
}

}  // namespace omnirm::media

namespace omnirm::media::detail {

std::vector<int64_t> plugin_indices_present(const std::string& path, int64_t declared_frames,
                                            double declared_seconds, int64_t present,
                                            const VideoOptions& options) {
  std::vector<int64_t> indices = plugin_frame_indices(declared_frames, declared_seconds, options);
  std::erase_if(indices, [present](int64_t index) { return index >= present; });
  if (indices.empty()) {
    fail(path,
         "spans " + seconds_text(declared_seconds) + ", too short for one frame at " +
             fmt::format("{:g}", options.max_fps) + " frames per second (LLaMA-Factory's sampling)",
         "use a video of at least one frame interval or remove the part");
  }
  return indices;
}

}  // namespace omnirm::media::detail
