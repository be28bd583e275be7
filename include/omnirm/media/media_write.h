// Writing real media files: PNG and JPEG (stb_image_write), WebP (libwebp), 16-bit PCM WAV
// (by hand), FLAC/MP3 and MP4/WebM (FFmpeg encoders), ASCII PLY and OBJ meshes, plus a small
// rasteriser that fills circles, squares and triangles of one colour into an Image.
//
// Every writer throws omnirm::UserError "<path>: what; what to do" when it cannot write.
// Output depends only on the inputs: video and audio encoders run single-threaded with
// FFmpeg's bit-exact flags, so the same frames or samples give the same bytes every time.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "omnirm/media/image.h"

namespace omnirm::media {

// ---- Raster drawing ------------------------------------------------------------------------

struct Rgb {
  uint8_t r = 0;
  uint8_t g = 0;
  uint8_t b = 0;

  friend bool operator==(const Rgb&, const Rgb&) = default;
};

// A width x height image of one colour.
Image solid_image(int width, int height, Rgb colour);

enum class ShapeKind { circle, square, triangle };

// A point in pixel coordinates: x to the right, y downwards; pixel (i, j) covers
// [i, i + 1) x [j, j + 1), so its centre is (i + 0.5, j + 0.5).
struct Point2 {
  double x = 0.0;
  double y = 0.0;
};

// Paints every pixel whose centre lies inside the shape (no anti-aliasing, so the image holds
// exactly two colours). `radius` is the half-size: a circle's radius, half a square's side,
// and for a triangle (apex up) the distance from the centre to its apex. Parts outside the
// image are clipped.
void fill_shape(Image& image, ShapeKind shape, Point2 centre, double radius, Rgb colour);

// Paints every pixel whose centre lies inside triangle (a, b, c), either winding.
void fill_triangle(Image& image, Point2 a, Point2 b, Point2 c, Rgb colour);

// ---- Images --------------------------------------------------------------------------------

void write_png(const std::string& path, const Image& image);
void write_jpeg(const std::string& path, const Image& image, int quality);
void write_webp(const std::string& path, const Image& image, bool lossless);

// ---- Audio ---------------------------------------------------------------------------------

// 16-bit PCM WAV; `interleaved` holds frames of `channels` samples in [-1, 1] (values outside
// are clipped).
void write_wav(const std::string& path, const std::vector<float>& interleaved, int channels,
               int sample_rate);

// Encodes mono or interleaved-stereo audio with an FFmpeg encoder ("flac", "libmp3lame");
// the container follows from the file extension.
void encode_audio(const std::string& path, const char* encoder,
                  const std::vector<float>& interleaved, int channels, int sample_rate);

// ---- Video ---------------------------------------------------------------------------------

// Encodes `frames` (all the same size, even sides) at `fps` with an FFmpeg encoder
// ("libx264", "libvpx", "mpeg4"); the container follows from the file extension (MP4, WebM,
// MKV). Frame i is shown at i / fps. `x264_preset` other than "ultrafast" lets libx264 use
// B-frames (decode order then differs from display order).
void encode_video(const std::string& path, const char* encoder, const std::vector<Image>& frames,
                  int fps, const char* x264_preset = "ultrafast");

// ---- Meshes --------------------------------------------------------------------------------

// A triangle mesh: vertex positions and faces as indices into `vertices`.
struct Mesh {
  std::vector<std::array<float, 3>> vertices;
  std::vector<std::array<uint32_t, 3>> triangles;
};

// ASCII PLY ("vertex" x y z as float, "face" vertex_indices as a uchar-counted int list) and
// Wavefront OBJ ("v" and 1-based "f" lines). Coordinates are written with 6 decimals.
// Throws a UserError when a face names a vertex that does not exist.
void write_ply(const std::string& path, const Mesh& mesh);
void write_obj(const std::string& path, const Mesh& mesh);

}  // namespace omnirm::media
