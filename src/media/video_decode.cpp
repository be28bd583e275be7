// Video files through FFmpeg (MP4/MOV and Matroska/WebM demuxers only), sampled into RGB
// frames (rule in video.h). Two passes over the file:
//   1. packets only, no decoding: the frame count and timestamps. The declared frame size,
//      frame count and duration are checked before this pass; the counted frames are checked
//      during it. A file with fewer frames or a shorter span than it declares is truncated.
//   2. decoding in display order up to the last sampled frame; only sampled frames are
//      converted to RGB (libswscale: by default in the stream's colour matrix and range, or as
//      PyAV converts, VideoRgb in video.h) and shrunk to max_side with the area filter.
// The plugin's linspace rule reads the stream's declared frame count and duration (pass 1
// checks that the file holds as many frames as it declares).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

extern "C" {
#include <libswscale/swscale.h>
}

#include "ffmpeg_input.h"
#include "media_common.h"
#include "omnirm/media/format_sniff.h"
#include "video_internal.h"

namespace omnirm::media {
namespace {

using detail::fail;

constexpr const char* kVideoDemuxers = "mov,matroska";
constexpr std::string_view kReencode = "re-encode the video (e.g. to H.264 MP4 or VP8/VP9 WebM)";
constexpr std::string_view kRaiseFrameLimit = "cut the video or raise the media frame-scan limit";

// Owns the pixel-format converter that sws_getCachedContext reuses or replaces.
struct Converter {
  SwsContext* context = nullptr;
  Converter() = default;
  Converter(const Converter&) = delete;
  Converter& operator=(const Converter&) = delete;
  ~Converter() { sws_freeContext(context); }
};

void check_is_video_container(const std::string& path) {
  const MediaFormat format = sniff_format(detail::read_file_head(path, 64));
  if (format == MediaFormat::mp4 || format == MediaFormat::matroska) return;
  if (format == MediaFormat::unknown) {
    fail(path, "not an MP4 or WebM video (unrecognised or corrupt data)",
         "replace it with a valid video file or a directory of frames");
  }
  fail(path, "is a " + std::string(format_description(format)) + " file, not a video",
       "fix the path or the content part's type");
}

int find_video_stream(const std::string& path, AVFormatContext* format) {
  const int index = av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (index < 0 || (format->streams[index]->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
    fail(path, "has no video stream", "fix the path or the content part's type");
  }
  return index;
}

void check_declared_values(const std::string& path, const AVFormatContext* format,
                           const AVStream* stream, const MediaLimits& limits) {
  detail::check_declared_size(path, stream->codecpar->width, stream->codecpar->height, limits);
  if (stream->nb_frames > limits.max_frames_scanned) {
    fail(path,
         "declares " + std::to_string(stream->nb_frames) + " frames, over the limit of " +
             std::to_string(limits.max_frames_scanned) + " frames scanned",
         kRaiseFrameLimit);
  }
  const double declared = detail::declared_duration_seconds(format, stream);
  if (declared > limits.max_duration_seconds) {
    fail(path,
         "declares " + detail::seconds_text(declared) + " of video, over the limit of " +
             detail::seconds_text(limits.max_duration_seconds),
         "cut the video or raise the media duration limit");
  }
  const double fps = av_q2d(stream->avg_frame_rate);
  if (declared > 0 && fps > 0 &&
      declared * fps > static_cast<double>(limits.max_frames_scanned) + 1) {
    fail(path,
         "declares about " + std::to_string(std::llround(declared * fps)) +
             " frames, over the limit of " + std::to_string(limits.max_frames_scanned) +
             " frames scanned",
         kRaiseFrameLimit);
  }
}

struct FrameTimes {
  std::vector<double> timestamps;  // seconds, sorted
  double end_time = 0.0;
  int64_t declared_frames = 0;     // the stream's nb_frames (0: not declared)
  double declared_seconds = -1.0;  // the stream's own duration (-1: not declared)
};

// The stream's duration as the exact rational duration · time_base rounded once to a double,
// as Python's float(Fraction) gives it to LLaMA-Factory's plugin; -1 when not declared.
double stream_duration_seconds(const AVStream* stream) {
  if (stream->duration == AV_NOPTS_VALUE || stream->duration <= 0) return -1.0;
  const AVRational base = stream->time_base;
  if (base.den <= 0) return -1.0;
  return static_cast<double>(stream->duration * base.num) / static_cast<double>(base.den);
}

// Pass 1: reads every packet of the stream without decoding.
FrameTimes scan_frame_times(const std::string& path, AVFormatContext* format, int stream_index,
                            const MediaLimits& limits) {
  const AVStream* stream = format->streams[stream_index];
  const double time_base = av_q2d(stream->time_base);
  FrameTimes times;
  double end_time = -INFINITY;
  detail::Packet packet = detail::make_packet();
  while (true) {
    const int read = av_read_frame(format, packet.get());
    if (read == AVERROR_EOF) break;
    if (read < 0) fail(path, "corrupt video data (" + detail::av_error_text(read) + ")", kReencode);
    if (packet->stream_index == stream_index) {
      const int64_t pts = packet->pts != AV_NOPTS_VALUE ? packet->pts : packet->dts;
      const double seconds = pts != AV_NOPTS_VALUE
                                 ? static_cast<double>(pts) * time_base
                                 : (times.timestamps.empty() ? 0.0 : times.timestamps.back());
      times.timestamps.push_back(seconds);
      end_time = std::max(end_time, seconds + std::max<int64_t>(packet->duration, 0) * time_base);
      if (static_cast<int64_t>(times.timestamps.size()) > limits.max_frames_scanned) {
        fail(path, "has more than " + std::to_string(limits.max_frames_scanned) + " frames",
             kRaiseFrameLimit);
      }
    }
    av_packet_unref(packet.get());
  }
  if (times.timestamps.empty()) fail(path, "has no video frames", kReencode);
  std::sort(times.timestamps.begin(), times.timestamps.end());

  // Where packets carry no duration, the last frame lasts one average frame interval.
  const double last = times.timestamps.back();
  if (end_time <= last) {
    const double fps = av_q2d(stream->avg_frame_rate);
    const size_t count = times.timestamps.size();
    end_time = last + (fps > 0     ? 1.0 / fps
                       : count > 1 ? (last - times.timestamps.front()) / double(count - 1)
                                   : 0.0);
  }
  times.end_time = end_time;
  times.declared_frames = std::max<int64_t>(stream->nb_frames, 0);
  times.declared_seconds = stream_duration_seconds(stream);

  const auto found = static_cast<int64_t>(times.timestamps.size());
  if (stream->nb_frames > 0 && found < stream->nb_frames) {
    fail(path,
         "truncated video: declares " + std::to_string(stream->nb_frames) + " frames but only " +
             std::to_string(found) + " are present",
         "replace it with the complete file");
  }
  const double declared = detail::declared_duration_seconds(format, stream);
  const double span = end_time - times.timestamps.front();
  if (declared > 0 && !detail::duration_is_estimate(format) && span < declared * 0.98 - 0.1) {
    fail(path,
         "truncated video: declares " + detail::seconds_text(declared) + " but its frames span " +
             detail::seconds_text(span),
         "replace it with the complete file");
  }
  return times;
}

Image frame_to_rgb(const std::string& path, const AVFrame* frame, VideoRgb rgb,
                   Converter* converter, const MediaLimits& limits) {
  detail::check_declared_size(path, frame->width, frame->height, limits);
  const int flags =
      rgb == VideoRgb::pyav ? SWS_BILINEAR : SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT;
  converter->context = sws_getCachedContext(
      converter->context, frame->width, frame->height, static_cast<AVPixelFormat>(frame->format),
      frame->width, frame->height, AV_PIX_FMT_RGB24, flags, nullptr, nullptr, nullptr);
  if (converter->context == nullptr) {
    fail(path, "cannot convert the video's pixel format", kReencode);
  }
  if (rgb == VideoRgb::accurate) {
    const int matrix =
        frame->colorspace == AVCOL_SPC_UNSPECIFIED ? SWS_CS_DEFAULT : frame->colorspace;
    const int full_range_source = frame->color_range == AVCOL_RANGE_JPEG ? 1 : 0;
    sws_setColorspaceDetails(converter->context, sws_getCoefficients(matrix), full_range_source,
                             sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
  }
  Image image;
  image.width = frame->width;
  image.height = frame->height;
  image.pixels.resize(static_cast<size_t>(frame->width) * frame->height * 3);
  uint8_t* planes[1] = {image.pixels.data()};
  const int strides[1] = {frame->width * 3};
  sws_scale(converter->context, frame->data, frame->linesize, 0, frame->height, planes, strides);
  return image;
}

// Pass 2: decodes frames in display order and keeps the ones at `wanted` indices.
void decode_wanted_frames(const std::string& path, const std::vector<int64_t>& wanted,
                          double start_time, const VideoOptions& options, const MediaLimits& limits,
                          Video* video) {
  detail::FormatContext format = detail::open_media_file(path, kVideoDemuxers, "video");
  const int stream_index = find_video_stream(path, format.get());
  const AVStream* stream = format->streams[stream_index];
  const double time_base = av_q2d(stream->time_base);
  detail::CodecContext decoder = detail::open_decoder(path, stream);
  decoder->max_pixels = limits.max_pixels;  // FFmpeg refuses larger frames before allocating
  Converter converter;
  const std::set<int64_t> wanted_set(wanted.begin(), wanted.end());
  const int64_t last_wanted = wanted.back();
  int64_t decoded = 0;

  detail::Frame frame = detail::make_frame();
  auto receive_all = [&]() {
    while (decoded <= last_wanted) {
      const int status = avcodec_receive_frame(decoder.get(), frame.get());
      if (status == AVERROR(EAGAIN) || status == AVERROR_EOF) return;
      if (status < 0) {
        fail(path, "corrupt video data (" + detail::av_error_text(status) + ")", kReencode);
      }
      if (wanted_set.count(decoded)) {
        Image image = frame_to_rgb(path, frame.get(), options.rgb, &converter, limits);
        if (video->frames.empty()) {
          video->source_width = image.width;
          video->source_height = image.height;
        }
        int width = 0, height = 0;
        fit_to_max_side(image.width, image.height, options.max_side, &width, &height);
        if (width != image.width || height != image.height) {
          image = resize_image_area(image, width, height);
        }
        const int64_t pts = frame->best_effort_timestamp;
        const double seconds = pts != AV_NOPTS_VALUE ? pts * time_base - start_time : 0.0;
        video->frames.push_back({decoded, seconds, std::move(image)});
      }
      ++decoded;
      av_frame_unref(frame.get());
    }
  };

  detail::Packet packet = detail::make_packet();
  while (decoded <= last_wanted) {
    const int read = av_read_frame(format.get(), packet.get());
    if (read == AVERROR_EOF) break;
    if (read < 0) fail(path, "corrupt video data (" + detail::av_error_text(read) + ")", kReencode);
    if (packet->stream_index == stream_index) {
      const int sent = avcodec_send_packet(decoder.get(), packet.get());
      if (sent < 0) {
        fail(path, "corrupt video data (" + detail::av_error_text(sent) + ")", kReencode);
      }
      receive_all();
    }
    av_packet_unref(packet.get());
  }
  if (decoded <= last_wanted) {
    avcodec_send_packet(decoder.get(), nullptr);
    receive_all();
  }
  if (decoded <= last_wanted) {
    fail(path,
         "corrupt video: only " + std::to_string(decoded) + " of " +
             std::to_string(video->source_frame_count) + " frames decode",
         kReencode);
  }
}

}  // namespace

Video decode_video(const std::string& path, const VideoOptions& options,
                   const MediaLimits& limits) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return detail::decode_frame_directory(path, options, limits);
  }
  detail::checked_file_size(path, limits);
  check_is_video_container(path);

  FrameTimes times;
  {
    detail::FormatContext format = detail::open_media_file(path, kVideoDemuxers, "video");
    const int stream_index = find_video_stream(path, format.get());
    check_declared_values(path, format.get(), format->streams[stream_index], limits);
    times = scan_frame_times(path, format.get(), stream_index, limits);
  }
  Video video;
  video.source_frame_count = static_cast<int64_t>(times.timestamps.size());
  video.duration_seconds = times.end_time - times.timestamps.front();
  if (video.duration_seconds > limits.max_duration_seconds) {
    fail(path,
         "spans " + detail::seconds_text(video.duration_seconds) + ", over the limit of " +
             detail::seconds_text(limits.max_duration_seconds),
         "cut the video or raise the media duration limit");
  }
  const std::vector<int64_t> wanted =
      options.sampling == VideoSampling::plugin_linspace
          ? detail::plugin_indices_present(
                path, times.declared_frames,
                // A frame count without a duration: the plugin would fail; the frames' span.
                times.declared_seconds >= 0 ? times.declared_seconds : video.duration_seconds,
                video.source_frame_count, options)
          : sample_frame_indices(times.timestamps, times.end_time, options);
  decode_wanted_frames(path, wanted, times.timestamps.front(), options, limits, &video);
  return video;
}

}  // namespace omnirm::media
