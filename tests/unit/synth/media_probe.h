// Test helpers that read back what a synthetic media file shows, using only the project's
// decoders and simple measurements (no knowledge of how the files were drawn): the colour,
// shape, size and place of the one object in a picture; the direction and speed of motion in
// a clip; pitch, beep count and loudness of a tone; primitive, proportion and pose of a 3D
// model from its points or its multi-view render.
#pragma once

#include <string>

#include "omnirm/media/image.h"

namespace omnirm::synth::testing {

struct PictureProbe {
  std::string colour;  // red | green | blue | yellow | "" (unclear)
  std::string shape;   // circle | square | triangle
  int64_t ink = 0;     // pixels of the object
  double centre_x = 0.0;
  double centre_y = 0.0;
};
PictureProbe probe_picture(const media::Image& image);
PictureProbe probe_picture_file(const std::string& path);

struct MotionProbe {
  std::string colour;     // of the moving object, in the first sampled frame
  std::string direction;  // left | right | up | down
  double distance = 0.0;  // pixels between the first and last sampled frame
  int frames = 0;         // frames the decoder sampled (at its default 2 fps, 4 frames cap)
};
MotionProbe probe_motion_file(const std::string& path);

struct ToneProbe {
  std::string pitch;  // low | high (below or above 700 Hz)
  double hz = 0.0;
  int beeps = 0;
  double peak = 0.0;
};
ToneProbe probe_tone_file(const std::string& path);

struct ModelProbe {
  std::string primitive;          // cube | sphere | cone | cylinder, read as if upright
  bool taller_than_wide = false;  // extent along y (up) above extent along x
};
// A "mesh" file through decode_point_cloud.
ModelProbe probe_mesh_file(const std::string& path);
// A "views" render: the front view (top-left quarter) and the top view (bottom-left).
ModelProbe probe_views_file(const std::string& path);

}  // namespace omnirm::synth::testing
