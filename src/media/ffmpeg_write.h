// Shared by the audio and video writers: one FFmpeg encoder feeding one muxer that writes a
// local file. Encoders run single-threaded and with the bit-exact flags on codec and muxer
// (no library version strings, no timestamps of the run), so output bytes depend only on the
// frames given. Every failure is a one-line omnirm::UserError naming the path.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include <string>

namespace omnirm::media::detail {

// Throws the write error for `path` when `status` is an FFmpeg error code (negative).
void check_av(int status, const std::string& path, const std::string& step);

class EncoderOutput {
 public:
  // Creates the muxer (chosen from the extension of `path`) and the encoder `encoder_name`.
  EncoderOutput(const std::string& path, const char* encoder_name);
  ~EncoderOutput();
  EncoderOutput(const EncoderOutput&) = delete;
  EncoderOutput& operator=(const EncoderOutput&) = delete;

  // The encoder, to be configured between construction and open().
  AVCodecContext* encoder() { return encoder_; }
  AVStream* stream() { return stream_; }

  // Opens the encoder and the file and writes the container header.
  void open();
  // Encodes `frame` and writes every packet the encoder hands back.
  void write(const AVFrame* frame);
  // Drains the encoder and writes the trailer.
  void finish();

 private:
  std::string path_;
  AVFormatContext* muxer_ = nullptr;
  AVCodecContext* encoder_ = nullptr;
  AVStream* stream_ = nullptr;
};

}  // namespace omnirm::media::detail
