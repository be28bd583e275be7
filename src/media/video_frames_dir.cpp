// A directory of image frames as a video: PNG/JPEG/WebP files in byte-wise name order (pad
// numbers with zeros: frame_10 sorts before frame_2), frame k at k / directory_fps seconds.
// Only the sampled frames are decoded; the file count is checked against the frame limit
// before any of them is read.
#include <algorithm>
#include <cctype>
#include <filesystem>

#include "media_common.h"
#include "omnirm/media/image.h"
#include "video_internal.h"

namespace omnirm::media::detail {
namespace {

bool has_image_extension(const std::filesystem::path& file) {
  std::string extension = file.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension == ".png" || extension == ".jpg" || extension == ".jpeg" || extension == ".webp";
}

}  // namespace

Video decode_frame_directory(const std::string& path, const VideoOptions& options,
                             const MediaLimits& limits) {
  if (options.directory_fps <= 0) {
    throw std::invalid_argument("decode_video: directory_fps must be positive");
  }
  std::vector<std::string> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(path, error)) {
    if (!entry.is_regular_file() || !has_image_extension(entry.path())) continue;
    files.push_back(entry.path().filename().string());
    if (static_cast<int64_t>(files.size()) > limits.max_frames_scanned) {
      fail(path,
           "frame directory holds more than " + std::to_string(limits.max_frames_scanned) +
               " frames",
           "sample the frames beforehand or raise the frame-scan limit");
    }
  }
  if (error) {
    fail(path, "cannot list the frame directory (" + error.message() + ")", "check permissions");
  }
  if (files.empty()) {
    fail(path, "frame directory has no PNG, JPEG or WebP files", "add frames or fix the path");
  }
  std::sort(files.begin(), files.end());
  const double duration = static_cast<double>(files.size()) / options.directory_fps;
  if (duration > limits.max_duration_seconds) {
    fail(path,
         "frame directory spans " + seconds_text(duration) + " (" + std::to_string(files.size()) +
             " frames), over the limit of " + seconds_text(limits.max_duration_seconds),
         "sample the frames beforehand or raise the media duration limit");
  }

  std::vector<double> timestamps(files.size());
  for (size_t k = 0; k < files.size(); ++k)
    timestamps[k] = static_cast<double>(k) / options.directory_fps;

  Video video;
  video.source_frame_count = static_cast<int64_t>(files.size());
  video.duration_seconds = duration;
  const auto count = static_cast<int64_t>(files.size());
  const std::vector<int64_t> wanted =
      options.sampling == VideoSampling::plugin_linspace
          ? plugin_indices_present(path, count, duration, count, options)
          : sample_frame_indices(timestamps, duration, options);
  for (const int64_t index : wanted) {
    const std::string file =
        (std::filesystem::path(path) / files[static_cast<size_t>(index)]).string();
    Image image = decode_image(file, {}, limits);
    if (video.frames.empty()) {
      video.source_width = image.width;
      video.source_height = image.height;
    }
    int width = 0, height = 0;
    fit_to_max_side(image.width, image.height, options.max_side, &width, &height);
    if (width != image.width || height != image.height) {
      image = resize_image_area(image, width, height);
    }
    video.frames.push_back({index, timestamps[static_cast<size_t>(index)], std::move(image)});
  }
  return video;
}

}  // namespace omnirm::media::detail
