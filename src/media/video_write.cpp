// Video writer: RGB frames converted to YUV 4:2:0 (libswscale) and encoded with an FFmpeg
// video encoder at a constant frame rate. With libx264 "ultrafast" (the default) there are
// no B-frames, so packets come out in display order.
extern "C" {
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include <memory>
#include <string>
#include <vector>

#include "ffmpeg_write.h"
#include "file_write.h"
#include "omnirm/media/media_write.h"

namespace omnirm::media {
namespace {

struct ScalerDeleter {
  void operator()(SwsContext* context) const { sws_freeContext(context); }
};
struct FrameDeleter {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};

void check_frames(const std::string& path, const std::vector<Image>& frames, int fps) {
  if (frames.empty() || fps <= 0) {
    detail::fail_write(path, "a video needs at least one frame and a positive frame rate");
  }
  const int width = frames.front().width;
  const int height = frames.front().height;
  if (width <= 0 || height <= 0 || width % 2 != 0 || height % 2 != 0) {
    detail::fail_write(path, "video frames need positive, even sides");
  }
  for (const Image& frame : frames) {
    if (frame.width != width || frame.height != height ||
        frame.pixels.size() != static_cast<size_t>(width) * height * 3) {
      detail::fail_write(path, "video frames must all have the size of the first frame");
    }
  }
}

}  // namespace

void encode_video(const std::string& path, const char* encoder_name,
                  const std::vector<Image>& frames, int fps, const char* x264_preset) {
  check_frames(path, frames, fps);
  const int width = frames.front().width;
  const int height = frames.front().height;
  detail::EncoderOutput out(path, encoder_name);
  AVCodecContext* encoder = out.encoder();
  encoder->width = width;
  encoder->height = height;
  encoder->pix_fmt = AV_PIX_FMT_YUV420P;
  encoder->time_base = AVRational{1, fps};
  encoder->framerate = AVRational{fps, 1};
  encoder->gop_size = 10;
  const std::string name = encoder_name;
  if (name == "libvpx") encoder->bit_rate = 4000000;  // an upper bound for crf
  if (name == "mpeg4") encoder->bit_rate = 2000000;
  av_opt_set(encoder->priv_data, "preset", x264_preset, 0);
  if (std::string(x264_preset) != "ultrafast") {
    encoder->max_b_frames = 2;
    av_opt_set(encoder->priv_data, "x264-params", "b-adapt=0", 0);  // B-frames even when static
  }
  av_opt_set(encoder->priv_data, "crf", "4", 0);
  av_opt_set(encoder->priv_data, "deadline", "realtime", 0);
  out.stream()->avg_frame_rate = AVRational{fps, 1};
  out.open();

  const std::unique_ptr<SwsContext, ScalerDeleter> converter(
      sws_getContext(width, height, AV_PIX_FMT_RGB24, width, height, AV_PIX_FMT_YUV420P,
                     SWS_BICUBIC | SWS_ACCURATE_RND | SWS_BITEXACT, nullptr, nullptr, nullptr));
  if (!converter) detail::fail_write(path, "cannot set up the RGB to YUV conversion");
  const std::unique_ptr<AVFrame, FrameDeleter> frame(av_frame_alloc());
  for (size_t i = 0; i < frames.size(); ++i) {
    av_frame_unref(frame.get());
    frame->format = AV_PIX_FMT_YUV420P;
    frame->width = width;
    frame->height = height;
    detail::check_av(av_frame_get_buffer(frame.get(), 0), path, "allocating a frame");
    const uint8_t* source[1] = {frames[i].pixels.data()};
    const int stride[1] = {width * 3};
    sws_scale(converter.get(), source, stride, 0, height, frame->data, frame->linesize);
    frame->pts = static_cast<int64_t>(i);
    out.write(frame.get());
  }
  out.finish();
}

}  // namespace omnirm::media
