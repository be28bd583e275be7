// FFmpeg encoder + muxer for the media writers (see ffmpeg_write.h).
#include "ffmpeg_write.h"

#include <mutex>

#include "file_write.h"

namespace omnirm::media::detail {
namespace {

std::string error_text(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof(text));
  return text;
}

}  // namespace

void check_av(int status, const std::string& path, const std::string& step) {
  if (status < 0) fail_write(path, step + " failed (" + error_text(status) + ")");
}

EncoderOutput::EncoderOutput(const std::string& path, const char* encoder_name) : path_(path) {
  // Failures are reported through exceptions; encoder statistics would only clutter stderr.
  static std::once_flag quiet_logs;
  std::call_once(quiet_logs, [] { av_log_set_level(AV_LOG_FATAL); });

  check_av(avformat_alloc_output_context2(&muxer_, nullptr, nullptr, path.c_str()), path,
           "choosing a container from the file extension");
  const AVCodec* codec = avcodec_find_encoder_by_name(encoder_name);
  if (codec == nullptr) {
    avformat_free_context(muxer_);
    fail_write(path, std::string("this FFmpeg has no encoder ") + encoder_name);
  }
  encoder_ = avcodec_alloc_context3(codec);
  stream_ = avformat_new_stream(muxer_, nullptr);
  if (encoder_ == nullptr || stream_ == nullptr) {
    avcodec_free_context(&encoder_);
    avformat_free_context(muxer_);
    fail_write(path, "out of memory setting up the encoder");
  }
  encoder_->thread_count = 1;
  encoder_->flags |= AV_CODEC_FLAG_BITEXACT;
  muxer_->flags |= AVFMT_FLAG_BITEXACT;
}

EncoderOutput::~EncoderOutput() {
  avcodec_free_context(&encoder_);
  if (muxer_ != nullptr && muxer_->pb != nullptr) avio_closep(&muxer_->pb);
  avformat_free_context(muxer_);
}

void EncoderOutput::open() {
  if (muxer_->oformat->flags & AVFMT_GLOBALHEADER) encoder_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  check_av(avcodec_open2(encoder_, encoder_->codec, nullptr), path_, "opening the encoder");
  check_av(avcodec_parameters_from_context(stream_->codecpar, encoder_), path_,
           "setting the stream parameters");
  stream_->time_base = encoder_->time_base;
  check_av(avio_open(&muxer_->pb, path_.c_str(), AVIO_FLAG_WRITE), path_, "opening the file");
  check_av(avformat_write_header(muxer_, nullptr), path_, "writing the container header");
}

void EncoderOutput::write(const AVFrame* frame) {
  check_av(avcodec_send_frame(encoder_, frame), path_, "encoding");
  AVPacket* packet = av_packet_alloc();
  while (true) {
    const int status = avcodec_receive_packet(encoder_, packet);
    if (status == AVERROR(EAGAIN) || status == AVERROR_EOF) break;
    if (status < 0) {
      av_packet_free(&packet);
      check_av(status, path_, "encoding");
    }
    av_packet_rescale_ts(packet, encoder_->time_base, stream_->time_base);
    packet->stream_index = stream_->index;
    const int written = av_interleaved_write_frame(muxer_, packet);
    if (written < 0) {
      av_packet_free(&packet);
      check_av(written, path_, "writing a packet");
    }
  }
  av_packet_free(&packet);
}

void EncoderOutput::finish() {
  write(nullptr);
  check_av(av_write_trailer(muxer_), path_, "writing the container trailer");
}

}  // namespace omnirm::media::detail
