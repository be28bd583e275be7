// Thin RAII owners for FFmpeg objects and the one way media files are opened through
// libavformat: local files only (protocol whitelist "file"), a demuxer whitelist per kind of
// media, and every failure turned into a one-line omnirm::UserError naming the path.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
}

#include <memory>
#include <string>

namespace omnirm::media::detail {

struct FormatContextDeleter {
  void operator()(AVFormatContext* context) const { avformat_close_input(&context); }
};
struct CodecContextDeleter {
  void operator()(AVCodecContext* context) const { avcodec_free_context(&context); }
};
struct FrameDeleter {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};
struct PacketDeleter {
  void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};

using FormatContext = std::unique_ptr<AVFormatContext, FormatContextDeleter>;
using CodecContext = std::unique_ptr<AVCodecContext, CodecContextDeleter>;
using Frame = std::unique_ptr<AVFrame, FrameDeleter>;
using Packet = std::unique_ptr<AVPacket, PacketDeleter>;

Frame make_frame();
Packet make_packet();

// FFmpeg's text for an error code.
std::string av_error_text(int code);

// Opens `path` with only the demuxers named in `demuxer_whitelist` (comma-separated FFmpeg
// names) and reads the stream information. `kind` ("audio", "video") is used in messages.
FormatContext open_media_file(const std::string& path, const char* demuxer_whitelist,
                              const char* kind);

// An opened decoder for `stream`.
CodecContext open_decoder(const std::string& path, const AVStream* stream);

// The duration the container declares for `stream` in seconds (the stream's own duration,
// else the file's), or a negative value when none is declared.
double declared_duration_seconds(const AVFormatContext* format, const AVStream* stream);

// True when libavformat only estimated the file's duration from its bitrate.
bool duration_is_estimate(const AVFormatContext* format);

}  // namespace omnirm::media::detail
