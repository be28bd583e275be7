// Opening media files through libavformat, safely and with one-line errors.
#include "ffmpeg_input.h"

#include <mutex>

#include "media_common.h"

namespace omnirm::media::detail {

Frame make_frame() {
  Frame frame(av_frame_alloc());
  if (!frame) throw std::bad_alloc();
  return frame;
}

Packet make_packet() {
  Packet packet(av_packet_alloc());
  if (!packet) throw std::bad_alloc();
  return packet;
}

std::string av_error_text(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof(text));
  return text;
}

FormatContext open_media_file(const std::string& path, const char* demuxer_whitelist,
                              const char* kind) {
  // Errors are reported through exceptions; FFmpeg's own log lines would only repeat them.
  static std::once_flag quiet_logs;
  std::call_once(quiet_logs, [] { av_log_set_level(AV_LOG_FATAL); });

  AVDictionary* settings = nullptr;
  av_dict_set(&settings, "protocol_whitelist", "file", 0);
  av_dict_set(&settings, "format_whitelist", demuxer_whitelist, 0);
  AVFormatContext* raw = nullptr;
  const int opened = avformat_open_input(&raw, path.c_str(), nullptr, &settings);
  av_dict_free(&settings);
  if (opened == AVERROR_EOF) {
    fail(path, std::string("truncated ") + kind + " (the file ends inside its header)",
         "replace it with the complete file");
  }
  if (opened < 0) {
    fail(path, std::string("cannot be read as ") + kind + " (" + av_error_text(opened) + ")",
         "check that the file is complete and re-encode it if needed");
  }
  FormatContext format(raw);
  const int probed = avformat_find_stream_info(format.get(), nullptr);
  if (probed == AVERROR_EOF) {
    fail(path, std::string("truncated ") + kind + " (the file ends early)",
         "replace it with the complete file");
  }
  if (probed < 0) {
    fail(path, std::string("corrupt ") + kind + " file (" + av_error_text(probed) + ")",
         "re-encode the file");
  }
  return format;
}

CodecContext open_decoder(const std::string& path, const AVStream* stream) {
  const AVCodec* codec = avcodec_find_decoder(stream->codecpar->codec_id);
  if (codec == nullptr) {
    fail(path,
         std::string("no decoder for codec '") + avcodec_get_name(stream->codecpar->codec_id) + "'",
         "re-encode the file with a common codec");
  }
  CodecContext context(avcodec_alloc_context3(codec));
  if (!context) throw std::bad_alloc();
  int status = avcodec_parameters_to_context(context.get(), stream->codecpar);
  if (status >= 0) status = avcodec_open2(context.get(), codec, nullptr);
  if (status < 0) {
    fail(path,
         "cannot open the " + std::string(codec->name) + " decoder (" + av_error_text(status) + ")",
         "re-encode the file");
  }
  return context;
}

double declared_duration_seconds(const AVFormatContext* format, const AVStream* stream) {
  if (stream->duration != AV_NOPTS_VALUE && stream->duration > 0) {
    return static_cast<double>(stream->duration) * av_q2d(stream->time_base);
  }
  if (format->duration != AV_NOPTS_VALUE && format->duration > 0) {
    return static_cast<double>(format->duration) / AV_TIME_BASE;
  }
  return -1.0;
}

bool duration_is_estimate(const AVFormatContext* format) {
  return format->duration_estimation_method == AVFMT_DURATION_FROM_BITRATE;
}

}  // namespace omnirm::media::detail
