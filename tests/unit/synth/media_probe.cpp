// Reading back synthetic media (see media_probe.h).
#include "unit/synth/media_probe.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "omnirm/media/audio.h"
#include "omnirm/media/point_cloud.h"
#include "omnirm/media/video.h"

namespace omnirm::synth::testing {
namespace {

// An object pixel differs clearly from the light grey or white background.
bool is_ink(const uint8_t* p) {
  const int darkest = std::min({p[0], p[1], p[2]});
  return darkest < 170;
}

std::string colour_name(double r, double g, double b) {
  if (r > 150 && g > 150 && b < 110) return "yellow";
  if (r > 150 && g < 110 && b < 110) return "red";
  if (g > r + 40 && g > b + 40) return "green";
  if (b > r + 40 && b > g + 40) return "blue";
  return "";
}

struct InkRegion {
  int64_t count = 0;
  double sum_r = 0, sum_g = 0, sum_b = 0, sum_x = 0, sum_y = 0;
  int min_x = 1 << 30, max_x = -1, min_y = 1 << 30, max_y = -1;
};

InkRegion ink_region(const media::Image& image, int left, int top, int width, int height) {
  InkRegion region;
  for (int y = top; y < top + height; ++y) {
    for (int x = left; x < left + width; ++x) {
      const uint8_t* p = image.pixels.data() + (static_cast<size_t>(y) * image.width + x) * 3;
      if (!is_ink(p)) continue;
      ++region.count;
      region.sum_r += p[0];
      region.sum_g += p[1];
      region.sum_b += p[2];
      region.sum_x += x + 0.5;
      region.sum_y += y + 0.5;
      region.min_x = std::min(region.min_x, x);
      region.max_x = std::max(region.max_x, x);
      region.min_y = std::min(region.min_y, y);
      region.max_y = std::max(region.max_y, y);
    }
  }
  return region;
}

double fill_ratio(const InkRegion& region) {
  if (region.count == 0) return 0.0;
  const double box = static_cast<double>(region.max_x - region.min_x + 1) *
                     static_cast<double>(region.max_y - region.min_y + 1);
  return static_cast<double>(region.count) / box;
}

}  // namespace

PictureProbe probe_picture(const media::Image& image) {
  const InkRegion region = ink_region(image, 0, 0, image.width, image.height);
  PictureProbe probe;
  probe.ink = region.count;
  if (region.count == 0) return probe;
  const auto n = static_cast<double>(region.count);
  probe.colour = colour_name(region.sum_r / n, region.sum_g / n, region.sum_b / n);
  probe.centre_x = region.sum_x / n;
  probe.centre_y = region.sum_y / n;
  const double fill = fill_ratio(region);
  probe.shape = fill > 0.92 ? "square" : (fill > 0.65 ? "circle" : "triangle");
  return probe;
}

PictureProbe probe_picture_file(const std::string& path) {
  return probe_picture(media::decode_image(path));
}

MotionProbe probe_motion_file(const std::string& path) {
  const media::Video video = media::decode_video(path);
  MotionProbe probe;
  probe.frames = static_cast<int>(video.frames.size());
  if (video.frames.size() < 2) return probe;
  const PictureProbe first = probe_picture(video.frames.front().image);
  const PictureProbe last = probe_picture(video.frames.back().image);
  probe.colour = first.colour;
  const double dx = last.centre_x - first.centre_x;
  const double dy = last.centre_y - first.centre_y;
  probe.distance = std::hypot(dx, dy);
  if (std::abs(dx) > std::abs(dy)) {
    probe.direction = dx < 0 ? "left" : "right";
  } else {
    probe.direction = dy < 0 ? "up" : "down";
  }
  return probe;
}

ToneProbe probe_tone_file(const std::string& path) {
  const media::Audio audio = media::decode_audio(path);
  ToneProbe probe;
  for (const float s : audio.samples) probe.peak = std::max(probe.peak, double(std::abs(s)));
  if (probe.peak == 0.0) return probe;
  // 5 ms windows; a window is active when its peak passes a tenth of the clip's peak.
  const size_t window = static_cast<size_t>(audio.sample_rate / 200);
  std::vector<bool> active;
  for (size_t start = 0; start + window <= audio.samples.size(); start += window) {
    double level = 0.0;
    for (size_t i = start; i < start + window; ++i) {
      level = std::max(level, double(std::abs(audio.samples[i])));
    }
    active.push_back(level > 0.1 * probe.peak);
  }
  // Runs of active windows; gaps shorter than 4 windows (20 ms) do not split a beep.
  int gap = 1 << 20;
  for (const bool on : active) {
    if (on) {
      if (gap >= 4) ++probe.beeps;
      gap = 0;
    } else {
      ++gap;
    }
  }
  // Pitch from sign changes inside active windows.
  int64_t crossings = 0, active_samples = 0;
  for (size_t w = 0; w < active.size(); ++w) {
    if (!active[w]) continue;
    for (size_t i = w * window + 1; i < (w + 1) * window; ++i) {
      if ((audio.samples[i - 1] < 0) != (audio.samples[i] < 0)) ++crossings;
    }
    active_samples += static_cast<int64_t>(window);
  }
  probe.hz = 0.5 * crossings * audio.sample_rate / static_cast<double>(active_samples);
  probe.pitch = probe.hz < 700 ? "low" : "high";
  return probe;
}

ModelProbe probe_mesh_file(const std::string& path) {
  media::PointCloudOptions options;
  options.num_points = 4096;
  const media::PointCloud cloud = media::decode_point_cloud(path, options);
  std::array<double, 3> low = {1e9, 1e9, 1e9}, high = {-1e9, -1e9, -1e9};
  for (int i = 0; i < cloud.num_points; ++i) {
    for (int c = 0; c < 3; ++c) {
      const double v = cloud.xyz[static_cast<size_t>(i) * 3 + c];
      low[c] = std::min(low[c], v);
      high[c] = std::max(high[c], v);
    }
  }
  std::array<double, 3> centre{}, half{};
  for (int c = 0; c < 3; ++c) {
    centre[c] = (low[c] + high[c]) / 2;
    half[c] = std::max((high[c] - low[c]) / 2, 1e-9);
  }
  ModelProbe probe;
  probe.taller_than_wide = half[1] > half[0];
  // In box-scaled coordinates (each axis in [-1, 1]), with y the height axis: a cube reaches
  // the corners (radius up to sqrt 2); a cone narrows to its top; a cylinder has flat caps
  // with points far from the axis; a sphere has neither.
  double max_radius = 0.0, top_radius = 0.0, bottom_radius = 0.0;
  int64_t top = 0, bottom = 0, cap_rim = 0;
  for (int i = 0; i < cloud.num_points; ++i) {
    const float* p = cloud.xyz.data() + static_cast<size_t>(i) * 3;
    const double u = (p[0] - centre[0]) / half[0];
    const double v = (p[1] - centre[1]) / half[1];
    const double w = (p[2] - centre[2]) / half[2];
    const double radius = std::hypot(u, w);
    max_radius = std::max(max_radius, radius);
    if (v > 0.5) {
      top_radius += radius;
      ++top;
    } else if (v < -0.5) {
      bottom_radius += radius;
      ++bottom;
    }
    if (std::abs(v) > 0.9 && radius > 0.6) ++cap_rim;
  }
  top_radius /= std::max<int64_t>(top, 1);
  bottom_radius /= std::max<int64_t>(bottom, 1);
  if (max_radius > 1.2) {
    probe.primitive = "cube";
  } else if (top_radius < 0.5 * bottom_radius) {
    probe.primitive = "cone";
  } else if (cap_rim > cloud.num_points / 20) {
    probe.primitive = "cylinder";
  } else {
    probe.primitive = "sphere";
  }
  return probe;
}

ModelProbe probe_views_file(const std::string& path) {
  const media::Image image = media::decode_image(path);
  const int cell = image.width / 2;
  const InkRegion front = ink_region(image, 0, 0, cell, cell);
  const InkRegion top = ink_region(image, 0, cell, cell, cell);
  ModelProbe probe;
  probe.taller_than_wide = front.max_y - front.min_y > front.max_x - front.min_x;
  const double front_fill = fill_ratio(front);
  if (front_fill < 0.65) {
    probe.primitive = "cone";
  } else if (front_fill > 0.92) {
    probe.primitive = fill_ratio(top) > 0.92 ? "cube" : "cylinder";
  } else {
    probe.primitive = "sphere";
  }
  return probe;
}

}  // namespace omnirm::synth::testing
