// Drawing, encoding and pooling the motion clips (see motion_videos.h).
#include "motion_videos.h"

#include <cmath>
#include <iterator>

#include "omnirm/media/media_write.h"
#include "synth_palette.h"

namespace omnirm::synth::detail {
namespace {

constexpr uint64_t kVideoWorld = 2;
constexpr double kHalfSideFraction = 0.10;         // of the frame side
constexpr double kTravelFraction[2] = {0.3, 0.5};  // slow, fast: first to last frame
// The fading trail behind the square: one ghost square per entry, each `half` further back,
// holding this share of the square's colour over the background.
constexpr double kTrailShares[2] = {0.55, 0.25};
constexpr int kTrailGhosts = static_cast<int>(std::size(kTrailShares));

media::Rgb blend(media::Rgb background, media::Rgb colour, double share) {
  auto mix = [&](uint8_t b, uint8_t c) {
    return static_cast<uint8_t>(std::lround(b + share * (double(c) - double(b))));
  };
  return {mix(background.r, colour.r), mix(background.g, colour.g), mix(background.b, colour.b)};
}
constexpr int kStep[4][2] = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}};  // per direction, y down

}  // namespace

std::vector<media::Image> draw_motion_frames(const MotionClip& clip, Split split, uint64_t seed,
                                             int image_size) {
  const double side = image_size;
  const double half = kHalfSideFraction * side;
  const double travel = kTravelFraction[clip.speed] * side;
  SynthRandom place = keyed_random(
      seed, {kVideoWorld, static_cast<uint64_t>(split), static_cast<uint64_t>(clip.direction),
             static_cast<uint64_t>(clip.speed), static_cast<uint64_t>(clip.variant)});
  // Along the motion: a start that leaves room for the trail and the whole travel; across it:
  // anywhere.
  const double trail = kTrailGhosts * half;
  const double along = uniform(place, half + trail + 1.0, side - 1.0 - half - travel);
  const double across = uniform(place, half + 1.0, side - 1.0 - half);
  const int dx = kStep[clip.direction][0];
  const int dy = kStep[clip.direction][1];
  const double start_x = dx == 0 ? across : (dx > 0 ? along : side - along);
  const double start_y = dy == 0 ? across : (dy > 0 ? along : side - along);

  const media::Rgb background = split_background(kBackground, split);
  const media::Rgb colour = kColours[clip.colour].rgb;
  std::vector<media::Image> frames;
  for (int i = 0; i < kMotionFrames; ++i) {
    const double moved = travel * i / (kMotionFrames - 1);
    media::Image frame = media::solid_image(image_size, image_size, background);
    for (int ghost = kTrailGhosts; ghost >= 0; --ghost) {
      const double back = moved - ghost * half;
      media::fill_shape(frame, media::ShapeKind::square,
                        media::Point2{start_x + dx * back, start_y + dy * back}, half,
                        ghost == 0 ? colour : blend(background, colour, kTrailShares[ghost - 1]));
    }
    frames.push_back(std::move(frame));
  }
  return frames;
}

std::string motion_clip_file(MediaPool& pool, const MotionClip& clip, Split split, uint64_t seed,
                             int image_size) {
  const std::string name =
      std::string("media/video/") + split_name(split) + "/" +
      media_stem({kVideoWorld, static_cast<uint64_t>(split), static_cast<uint64_t>(clip.colour),
                  static_cast<uint64_t>(clip.direction), static_cast<uint64_t>(clip.speed),
                  static_cast<uint64_t>(clip.variant)}) +
      ".mp4";
  return pool.file(name, [&](const std::string& path) {
    media::encode_video(path, "libx264", draw_motion_frames(clip, split, seed, image_size),
                        kMotionFps);
  });
}

ComboGrid motion_grid(uint64_t seed, bool hold_out) {
  return ComboGrid(static_cast<int>(kDirectionNames.size()), static_cast<int>(kColours.size()), 1,
                   seed, kVideoWorld, hold_out);
}

}  // namespace omnirm::synth::detail
