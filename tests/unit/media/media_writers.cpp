// Test-only media writers (see media_writers.h).
#include "unit/media/media_writers.h"

#include <stb_image_write.h>
#include <webp/encode.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numbers>
#include <random>
#include <stdexcept>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
}

namespace omnirm::media::testing {
namespace {

void check(int status, const std::string& what) {
  if (status < 0) {
    char text[AV_ERROR_MAX_STRING_SIZE] = {};
    av_strerror(status, text, sizeof(text));
    throw std::runtime_error(what + ": " + text);
  }
}

// Sends `frame` (null: flush) to the encoder and writes every packet it returns.
void encode_and_write(AVCodecContext* encoder, AVFormatContext* muxer, AVStream* stream,
                      const AVFrame* frame) {
  check(avcodec_send_frame(encoder, frame), "send frame");
  AVPacket* packet = av_packet_alloc();
  while (true) {
    const int status = avcodec_receive_packet(encoder, packet);
    if (status == AVERROR(EAGAIN) || status == AVERROR_EOF) break;
    check(status, "receive packet");
    av_packet_rescale_ts(packet, encoder->time_base, stream->time_base);
    packet->stream_index = stream->index;
    check(av_interleaved_write_frame(muxer, packet), "write packet");
  }
  av_packet_free(&packet);
}

struct Output {
  AVFormatContext* muxer = nullptr;
  AVCodecContext* encoder = nullptr;
  AVStream* stream = nullptr;

  Output(const std::string& path, const char* encoder_name) {
    av_log_set_level(AV_LOG_ERROR);  // encoders' statistics would flood the test log
    check(avformat_alloc_output_context2(&muxer, nullptr, nullptr, path.c_str()),
          "muxer for " + path);
    const AVCodec* codec = avcodec_find_encoder_by_name(encoder_name);
    if (codec == nullptr) throw std::runtime_error(std::string("no encoder ") + encoder_name);
    encoder = avcodec_alloc_context3(codec);
    stream = avformat_new_stream(muxer, nullptr);
  }
  void open(const std::string& path) {
    if (muxer->oformat->flags & AVFMT_GLOBALHEADER) encoder->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    check(avcodec_open2(encoder, encoder->codec, nullptr), "open encoder");
    check(avcodec_parameters_from_context(stream->codecpar, encoder), "stream parameters");
    stream->time_base = encoder->time_base;
    check(avio_open(&muxer->pb, path.c_str(), AVIO_FLAG_WRITE), "open " + path);
    check(avformat_write_header(muxer, nullptr), "write header");
  }
  void finish() {
    encode_and_write(encoder, muxer, stream, nullptr);
    check(av_write_trailer(muxer), "write trailer");
  }
  ~Output() {
    avcodec_free_context(&encoder);
    if (muxer != nullptr && muxer->pb != nullptr) avio_closep(&muxer->pb);
    avformat_free_context(muxer);
  }
};

}  // namespace

Image solid_image(int width, int height, uint8_t r, uint8_t g, uint8_t b) {
  Image image;
  image.width = width;
  image.height = height;
  image.pixels.resize(static_cast<size_t>(width) * height * 3);
  for (size_t i = 0; i < image.pixels.size(); i += 3) {
    image.pixels[i] = r;
    image.pixels[i + 1] = g;
    image.pixels[i + 2] = b;
  }
  return image;
}

Image gradient_image(int width, int height) {
  Image image = solid_image(width, height, 0, 0, 0);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* p = image.pixels.data() + (static_cast<size_t>(y) * width + x) * 3;
      p[0] = static_cast<uint8_t>(x * 255 / std::max(width - 1, 1));
      p[1] = static_cast<uint8_t>(y * 255 / std::max(height - 1, 1));
      p[2] = static_cast<uint8_t>((x + y) % 256);
    }
  }
  return image;
}

void write_png(const std::string& path, const Image& image) {
  if (!stbi_write_png(path.c_str(), image.width, image.height, 3, image.pixels.data(),
                      image.width * 3)) {
    throw std::runtime_error("stbi_write_png failed: " + path);
  }
}

void write_jpeg(const std::string& path, const Image& image, int quality) {
  if (!stbi_write_jpg(path.c_str(), image.width, image.height, 3, image.pixels.data(), quality)) {
    throw std::runtime_error("stbi_write_jpg failed: " + path);
  }
}

void write_webp(const std::string& path, const Image& image, bool lossless) {
  uint8_t* output = nullptr;
  const size_t size = lossless ? WebPEncodeLosslessRGB(image.pixels.data(), image.width,
                                                       image.height, image.width * 3, &output)
                               : WebPEncodeRGB(image.pixels.data(), image.width, image.height,
                                               image.width * 3, 90.0f, &output);
  if (size == 0) throw std::runtime_error("WebP encoding failed: " + path);
  write_bytes(path, std::vector<uint8_t>(output, output + size));
  WebPFree(output);
}

void write_wav(const std::string& path, const std::vector<float>& interleaved, int channels,
               int sample_rate) {
  std::vector<uint8_t> bytes;
  auto put = [&](uint32_t value, int size) {
    for (int i = 0; i < size; ++i) bytes.push_back(static_cast<uint8_t>(value >> (8 * i)));
  };
  auto tag = [&](const char* text) { bytes.insert(bytes.end(), text, text + 4); };
  const auto data_size = static_cast<uint32_t>(interleaved.size() * 2);
  tag("RIFF");
  put(36 + data_size, 4);
  tag("WAVE");
  tag("fmt ");
  put(16, 4);
  put(1, 2);  // PCM
  put(static_cast<uint32_t>(channels), 2);
  put(static_cast<uint32_t>(sample_rate), 4);
  put(static_cast<uint32_t>(sample_rate * channels * 2), 4);
  put(static_cast<uint32_t>(channels * 2), 2);
  put(16, 2);
  tag("data");
  put(data_size, 4);
  for (const float sample : interleaved) {
    const long value = std::lround(std::clamp(sample, -1.0f, 1.0f) * 32767.0f);
    put(static_cast<uint32_t>(static_cast<int16_t>(value)), 2);
  }
  write_bytes(path, bytes);
}

void encode_audio(const std::string& path, const char* encoder_name,
                  const std::vector<float>& interleaved, int channels, int sample_rate) {
  Output out(path, encoder_name);
  AVCodecContext* encoder = out.encoder;
  encoder->sample_rate = sample_rate;
  av_channel_layout_default(&encoder->ch_layout, channels);
  encoder->sample_fmt = encoder->codec->sample_fmts[0];
  encoder->time_base = AVRational{1, sample_rate};
  encoder->bit_rate = 128000;
  out.open(path);

  SwrContext* converter = nullptr;
  check(swr_alloc_set_opts2(&converter, &encoder->ch_layout, encoder->sample_fmt, sample_rate,
                            &encoder->ch_layout, AV_SAMPLE_FMT_FLT, sample_rate, 0, nullptr),
        "resampler");
  check(swr_init(converter), "resampler init");
  const int frame_size = encoder->frame_size > 0 ? encoder->frame_size : 1024;
  const auto total = static_cast<int64_t>(interleaved.size() / static_cast<size_t>(channels));
  AVFrame* frame = av_frame_alloc();
  for (int64_t start = 0; start < total; start += frame_size) {
    const int count = static_cast<int>(std::min<int64_t>(frame_size, total - start));
    av_frame_unref(frame);
    frame->nb_samples = count;
    frame->format = encoder->sample_fmt;
    frame->sample_rate = sample_rate;
    check(av_channel_layout_copy(&frame->ch_layout, &encoder->ch_layout), "layout");
    check(av_frame_get_buffer(frame, 0), "frame buffer");
    const uint8_t* input[1] = {
        reinterpret_cast<const uint8_t*>(interleaved.data() + start * channels)};
    check(swr_convert(converter, frame->data, count, input, count), "convert");
    frame->pts = start;
    encode_and_write(encoder, out.muxer, out.stream, frame);
  }
  av_frame_free(&frame);
  swr_free(&converter);
  out.finish();
}

void encode_video(const std::string& path, const char* encoder_name,
                  const std::vector<Image>& frames, int fps, const char* x264_preset) {
  Output out(path, encoder_name);
  AVCodecContext* encoder = out.encoder;
  const int width = frames.front().width, height = frames.front().height;
  encoder->width = width;
  encoder->height = height;
  encoder->pix_fmt = AV_PIX_FMT_YUV420P;
  encoder->time_base = AVRational{1, fps};
  encoder->framerate = AVRational{fps, 1};
  encoder->gop_size = 10;
  if (std::string(encoder_name) == "libvpx") encoder->bit_rate = 4000000;  // an upper bound for crf
  av_opt_set(encoder->priv_data, "preset", x264_preset, 0);
  if (std::string(x264_preset) != "ultrafast") {
    encoder->max_b_frames = 2;
    av_opt_set(encoder->priv_data, "x264-params", "b-adapt=0", 0);  // B-frames even when static
    av_opt_set(encoder->priv_data, "crf", "10", 0);
  }
  av_opt_set(encoder->priv_data, "crf", "4", 0);
  av_opt_set(encoder->priv_data, "deadline", "realtime", 0);
  out.stream->avg_frame_rate = AVRational{fps, 1};
  out.open(path);

  SwsContext* converter =
      sws_getContext(width, height, AV_PIX_FMT_RGB24, width, height, AV_PIX_FMT_YUV420P,
                     SWS_BICUBIC | SWS_ACCURATE_RND, nullptr, nullptr, nullptr);
  AVFrame* frame = av_frame_alloc();
  for (size_t i = 0; i < frames.size(); ++i) {
    av_frame_unref(frame);
    frame->format = AV_PIX_FMT_YUV420P;
    frame->width = width;
    frame->height = height;
    check(av_frame_get_buffer(frame, 0), "frame buffer");
    const uint8_t* source[1] = {frames[i].pixels.data()};
    const int stride[1] = {width * 3};
    sws_scale(converter, source, stride, 0, height, frame->data, frame->linesize);
    frame->pts = static_cast<int64_t>(i);
    encode_and_write(encoder, out.muxer, out.stream, frame);
  }
  av_frame_free(&frame);
  sws_freeContext(converter);
  out.finish();
}

std::vector<float> sine(double hz, double amplitude, double seconds, int sample_rate) {
  std::vector<float> samples(static_cast<size_t>(std::lround(seconds * sample_rate)));
  for (size_t i = 0; i < samples.size(); ++i) {
    samples[i] =
        static_cast<float>(amplitude * std::sin(2.0 * std::numbers::pi * hz * i / sample_rate));
  }
  return samples;
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error("cannot write " + path);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

void write_first_half(const std::string& source, const std::string& target) {
  std::vector<uint8_t> bytes = read_bytes(source);
  bytes.resize(bytes.size() / 2);
  write_bytes(target, bytes);
}

void write_random_bytes(const std::string& path, size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> bytes(count);
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng() & 0xFF);
  write_bytes(path, bytes);
}

}  // namespace omnirm::media::testing
