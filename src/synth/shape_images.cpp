// Drawing and pooling the shape pictures (see shape_images.h).
#include "shape_images.h"

#include "omnirm/media/media_write.h"
#include "synth_palette.h"

namespace omnirm::synth::detail {
namespace {

constexpr uint64_t kImageWorld = 1;
constexpr double kRadiusFraction[2] = {0.19, 0.38};  // small, large; of the image side

}  // namespace

media::Image draw_shape_picture(const ShapePicture& picture, Split split, uint64_t seed,
                                int image_size) {
  const double side = image_size;
  const double radius = kRadiusFraction[picture.size] * side;
  SynthRandom place = keyed_random(
      seed, {kImageWorld, static_cast<uint64_t>(split), static_cast<uint64_t>(picture.size),
             static_cast<uint64_t>(picture.variant)});
  const double x = uniform(place, radius + 1.0, side - radius - 1.0);
  const double y = uniform(place, radius + 1.0, side - radius - 1.0);
  media::Image image =
      media::solid_image(image_size, image_size, split_background(kBackground, split));
  media::fill_shape(image, static_cast<media::ShapeKind>(picture.shape), media::Point2{x, y},
                    radius, kColours[picture.colour].rgb);
  return image;
}

std::string shape_picture_file(MediaPool& pool, const ShapePicture& picture, Split split,
                               uint64_t seed, int image_size) {
  const std::string name =
      std::string("media/image/") + split_name(split) + "/" +
      std::string(kColours[picture.colour].name) + "-" + std::string(kShapeNames[picture.shape]) +
      "-" + std::string(kSizeNames[picture.size]) + "-" + std::to_string(picture.variant) + ".png";
  return pool.file(name, [&](const std::string& path) {
    media::write_png(path, draw_shape_picture(picture, split, seed, image_size));
  });
}

ComboGrid shape_grid(uint64_t seed, bool hold_out) {
  return ComboGrid(static_cast<int>(kShapeNames.size()), static_cast<int>(kColours.size()), 1, seed,
                   kImageWorld, hold_out);
}

}  // namespace omnirm::synth::detail
