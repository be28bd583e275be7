// Audio writers: 16-bit PCM WAV by hand, and any FFmpeg audio encoder (FLAC, MP3) through
// libswresample (float input converted to the encoder's sample format).
extern "C" {
#include <libavutil/channel_layout.h>
#include <libswresample/swresample.h>
}

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "ffmpeg_write.h"
#include "file_write.h"
#include "omnirm/media/media_write.h"

namespace omnirm::media {
namespace {

void check_audio(const std::string& path, const std::vector<float>& interleaved, int channels,
                 int sample_rate) {
  if (channels <= 0 || sample_rate <= 0 || interleaved.size() % channels != 0) {
    detail::fail_write(path,
                       "audio to write needs positive channels and sample rate and whole "
                       "frames of samples");
  }
}

struct ResamplerDeleter {
  void operator()(SwrContext* context) const { swr_free(&context); }
};
struct FrameDeleter {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};

}  // namespace

void write_wav(const std::string& path, const std::vector<float>& interleaved, int channels,
               int sample_rate) {
  check_audio(path, interleaved, channels, sample_rate);
  std::vector<uint8_t> bytes;
  bytes.reserve(44 + interleaved.size() * 2);
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
  put(static_cast<uint32_t>(sample_rate * channels * 2), 4);  // bytes per second
  put(static_cast<uint32_t>(channels * 2), 2);                // bytes per frame
  put(16, 2);                                                 // bits per sample
  tag("data");
  put(data_size, 4);
  for (const float sample : interleaved) {
    const long value = std::lround(std::clamp(sample, -1.0f, 1.0f) * 32767.0f);
    put(static_cast<uint32_t>(static_cast<int16_t>(value)), 2);
  }
  detail::write_whole_file(path, bytes.data(), bytes.size());
}

void encode_audio(const std::string& path, const char* encoder_name,
                  const std::vector<float>& interleaved, int channels, int sample_rate) {
  check_audio(path, interleaved, channels, sample_rate);
  detail::EncoderOutput out(path, encoder_name);
  AVCodecContext* encoder = out.encoder();
  encoder->sample_rate = sample_rate;
  av_channel_layout_default(&encoder->ch_layout, channels);
  encoder->sample_fmt = encoder->codec->sample_fmts[0];
  encoder->time_base = AVRational{1, sample_rate};
  encoder->bit_rate = 128000;
  out.open();

  SwrContext* raw_resampler = nullptr;
  detail::check_av(
      swr_alloc_set_opts2(&raw_resampler, &encoder->ch_layout, encoder->sample_fmt, sample_rate,
                          &encoder->ch_layout, AV_SAMPLE_FMT_FLT, sample_rate, 0, nullptr),
      path, "setting up the sample converter");
  const std::unique_ptr<SwrContext, ResamplerDeleter> resampler(raw_resampler);
  detail::check_av(swr_init(resampler.get()), path, "setting up the sample converter");

  const int frame_size = encoder->frame_size > 0 ? encoder->frame_size : 1024;
  const auto total = static_cast<int64_t>(interleaved.size() / static_cast<size_t>(channels));
  const std::unique_ptr<AVFrame, FrameDeleter> frame(av_frame_alloc());
  for (int64_t start = 0; start < total; start += frame_size) {
    const int count = static_cast<int>(std::min<int64_t>(frame_size, total - start));
    av_frame_unref(frame.get());
    frame->nb_samples = count;
    frame->format = encoder->sample_fmt;
    frame->sample_rate = sample_rate;
    detail::check_av(av_channel_layout_copy(&frame->ch_layout, &encoder->ch_layout), path,
                     "copying the channel layout");
    detail::check_av(av_frame_get_buffer(frame.get(), 0), path, "allocating a frame");
    const uint8_t* input[1] = {
        reinterpret_cast<const uint8_t*>(interleaved.data() + start * channels)};
    detail::check_av(swr_convert(resampler.get(), frame->data, count, input, count), path,
                     "converting samples");
    frame->pts = start;
    out.write(frame.get());
  }
  out.finish();
}

}  // namespace omnirm::media
