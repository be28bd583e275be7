// Audio through FFmpeg to mono float32 at a fixed rate (see audio.h).
// Order of checks: file size; format sniffed from the first bytes (only audio containers are
// opened, and only with audio demuxers); for WAV, the header's data size (wav_header.h); the
// declared duration against the limit; then decoding, which stops with an error once the
// output passes the limit (for formats that declare no duration). A file that decodes to
// clearly less than its declared duration is reported as truncated; otherwise any packet
// that fails to demux or decode makes the file corrupt (nothing is silently skipped).
#include <algorithm>
#include <cmath>

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
}

#include "ffmpeg_input.h"
#include "media_common.h"
#include "omnirm/media/audio.h"
#include "omnirm/media/format_sniff.h"
#include "wav_header.h"

namespace omnirm::media {
namespace {

using detail::fail;

constexpr const char* kAudioDemuxers = "wav,flac,mp3,ogg,mov,matroska";
constexpr std::string_view kReencode = "re-encode the audio (e.g. to WAV or FLAC)";

struct SwrDeleter {
  void operator()(SwrContext* context) const { swr_free(&context); }
};
using Resampler = std::unique_ptr<SwrContext, SwrDeleter>;

MediaFormat check_is_audio_container(const std::string& path) {
  const MediaFormat format = sniff_format(detail::read_file_head(path, 64));
  switch (format) {
    case MediaFormat::wav:
    case MediaFormat::flac:
    case MediaFormat::mp3:
    case MediaFormat::ogg:
    case MediaFormat::mp4:
    case MediaFormat::matroska:
      return format;
    case MediaFormat::unknown:
      fail(path, "not a WAV, FLAC or MP3 file (unrecognised or corrupt data)",
           "replace it with a valid audio file");
    default:
      fail(path, "is a " + std::string(format_description(format)) + " file, not audio",
           "fix the path or the content part's type");
  }
}

// Resamples decoded frames to planar float at the output rate, keeping the channels, and
// appends their mean to `samples`.
class MonoResampler {
 public:
  MonoResampler(const std::string& path, const AVCodecContext* decoder, int output_rate)
      : path_(path) {
    AVChannelLayout layout;
    if (decoder->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
      av_channel_layout_default(&layout, decoder->ch_layout.nb_channels);
    } else if (av_channel_layout_copy(&layout, &decoder->ch_layout) < 0) {
      throw std::bad_alloc();
    }
    channels_ = layout.nb_channels;
    SwrContext* raw = nullptr;
    int status = swr_alloc_set_opts2(&raw, &layout, AV_SAMPLE_FMT_FLTP, output_rate, &layout,
                                     decoder->sample_fmt, decoder->sample_rate, 0, nullptr);
    av_channel_layout_uninit(&layout);
    context_.reset(raw);
    if (status >= 0) status = swr_init(context_.get());
    if (status < 0) {
      fail(path, "cannot resample this audio (" + detail::av_error_text(status) + ")", kReencode);
    }
  }

  // `frame` null flushes what the resampler still holds.
  void convert(const AVFrame* frame, std::vector<float>* samples) {
    const int input_count = frame ? frame->nb_samples : 0;
    const int capacity = swr_get_out_samples(context_.get(), input_count);
    if (capacity <= 0) return;
    planes_.resize(static_cast<size_t>(channels_));
    pointers_.resize(static_cast<size_t>(channels_));
    for (int c = 0; c < channels_; ++c) {
      planes_[c].resize(static_cast<size_t>(capacity));
      pointers_[c] = reinterpret_cast<uint8_t*>(planes_[c].data());
    }
    const int produced = swr_convert(
        context_.get(), pointers_.data(), capacity,
        frame ? const_cast<const uint8_t**>(frame->extended_data) : nullptr, input_count);
    if (produced < 0) {
      fail(path_, "resampling failed (" + detail::av_error_text(produced) + ")", kReencode);
    }
    const float scale = 1.0f / static_cast<float>(channels_);
    for (int i = 0; i < produced; ++i) {
      float sum = 0.0f;
      for (int c = 0; c < channels_; ++c) sum += planes_[c][i];
      samples->push_back(sum * scale);
    }
  }

 private:
  std::string path_;
  Resampler context_;
  int channels_ = 0;
  std::vector<std::vector<float>> planes_;
  std::vector<uint8_t*> pointers_;
};

}  // namespace

Audio decode_audio(const std::string& path, const AudioOptions& options,
                   const MediaLimits& limits) {
  if (options.sample_rate <= 0) throw std::invalid_argument("decode_audio: sample_rate <= 0");
  const int64_t file_size = detail::checked_file_size(path, limits);
  if (check_is_audio_container(path) == MediaFormat::wav) {
    detail::check_wav_header(path, file_size, limits);
  }
  detail::FormatContext format = detail::open_media_file(path, kAudioDemuxers, "audio");

  const int stream_index =
      av_find_best_stream(format.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  if (stream_index < 0) {
    fail(path, "has no audio stream", "fix the path or the content part's type");
  }
  const AVStream* stream = format->streams[stream_index];
  const double declared = detail::declared_duration_seconds(format.get(), stream);
  if (declared > limits.max_duration_seconds) {
    fail(path,
         "declares " + detail::seconds_text(declared) + " of audio, over the limit of " +
             detail::seconds_text(limits.max_duration_seconds),
         "cut the clip or raise the media duration limit");
  }
  if (stream->codecpar->sample_rate <= 0 || stream->codecpar->ch_layout.nb_channels <= 0) {
    fail(path, "declares no sample rate or no channels", kReencode);
  }

  detail::CodecContext decoder = detail::open_decoder(path, stream);
  MonoResampler resampler(path, decoder.get(), options.sample_rate);
  Audio audio;
  audio.sample_rate = options.sample_rate;
  audio.source_sample_rate = decoder->sample_rate;
  audio.source_channels = decoder->ch_layout.nb_channels;
  const auto max_samples =
      static_cast<size_t>(std::ceil(limits.max_duration_seconds * options.sample_rate)) + 1;
  int64_t source_samples = 0;

  detail::Frame frame = detail::make_frame();
  // Decoding goes on past a bad packet so that a cut-off file can be told from a damaged one.
  int bad_packets = 0;
  std::string first_error;
  auto note_error = [&](int status) {
    if (bad_packets++ == 0) first_error = detail::av_error_text(status);
  };
  auto receive_all = [&]() {
    while (true) {
      const int status = avcodec_receive_frame(decoder.get(), frame.get());
      if (status == AVERROR(EAGAIN) || status == AVERROR_EOF) return;
      if (status < 0) {
        note_error(status);
        return;
      }
      source_samples += frame->nb_samples;
      resampler.convert(frame.get(), &audio.samples);
      av_frame_unref(frame.get());
      if (audio.samples.size() > max_samples) {
        fail(path,
             "decodes to more than " + detail::seconds_text(limits.max_duration_seconds) +
                 " of audio",
             "cut the clip or raise the media duration limit");
      }
    }
  };

  detail::Packet packet = detail::make_packet();
  while (true) {
    const int read = av_read_frame(format.get(), packet.get());
    if (read == AVERROR_EOF) break;
    if (read < 0) {
      note_error(read);
      break;
    }
    if (packet->stream_index == stream_index) {
      const int sent = avcodec_send_packet(decoder.get(), packet.get());
      if (sent < 0) note_error(sent);
      receive_all();
    }
    av_packet_unref(packet.get());
  }
  avcodec_send_packet(decoder.get(), nullptr);
  receive_all();
  resampler.convert(nullptr, &audio.samples);

  const double decoded = static_cast<double>(source_samples) / audio.source_sample_rate;
  if (declared > 0 && !detail::duration_is_estimate(format.get()) &&
      decoded < declared * 0.98 - 0.05) {
    fail(path,
         "truncated audio: declares " + detail::seconds_text(declared) + " but only " +
             detail::seconds_text(decoded) + " decode",
         "replace it with the complete file");
  }
  if (bad_packets > 0) {
    fail(path,
         "corrupt audio data (" + std::to_string(bad_packets) +
             " bad packets, first: " + first_error + ")",
         kReencode);
  }
  if (source_samples == 0 || audio.samples.empty()) {
    fail(path, "contains no audio samples", "replace it with a non-empty clip");
  }
  return audio;
}

}  // namespace omnirm::media
