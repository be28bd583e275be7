// Building, rendering and pooling the primitive models (see primitive_meshes.h).
#include "primitive_meshes.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "synth_palette.h"

namespace omnirm::synth::detail {
namespace {

constexpr uint64_t kMeshWorld = 4;
// Width (x and z) and height (y) per proportion: tall is twice as high as wide, flat a
// quarter as high as wide.
constexpr double kWidth[2] = {1.0, 2.0};
constexpr double kHeight[2] = {2.0, 0.5};
constexpr int kSegments[kModelVariants] = {16, 24};  // around the axis of round primitives
constexpr media::Rgb kSilhouette{70, 70, 85};
constexpr media::Rgb kViewBackground{250, 250, 250};

using Vec3 = std::array<float, 3>;

class MeshBuilder {
 public:
  uint32_t vertex(double x, double y, double z) {
    mesh_.vertices.push_back(
        Vec3{static_cast<float>(x), static_cast<float>(y), static_cast<float>(z)});
    return static_cast<uint32_t>(mesh_.vertices.size() - 1);
  }
  void triangle(uint32_t a, uint32_t b, uint32_t c) { mesh_.triangles.push_back({a, b, c}); }
  void quad(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
    triangle(a, b, c);
    triangle(a, c, d);
  }
  media::Mesh take() { return std::move(mesh_); }

 private:
  media::Mesh mesh_;
};

// A ring of `segments` vertices of radius `radius` at height y.
std::vector<uint32_t> ring(MeshBuilder& builder, double radius, double y, int segments) {
  std::vector<uint32_t> indices;
  for (int i = 0; i < segments; ++i) {
    const double angle = 2.0 * std::numbers::pi * i / segments;
    indices.push_back(builder.vertex(radius * std::cos(angle), y, radius * std::sin(angle)));
  }
  return indices;
}

// Fan from `centre` over `ring_indices`: a flat cap.
void cap(MeshBuilder& builder, uint32_t centre, const std::vector<uint32_t>& ring_indices) {
  const size_t n = ring_indices.size();
  for (size_t i = 0; i < n; ++i)
    builder.triangle(centre, ring_indices[i], ring_indices[(i + 1) % n]);
}

void build_box(MeshBuilder& builder, double hx, double hy, double hz) {
  uint32_t corner[8];
  for (int i = 0; i < 8; ++i) {
    corner[i] = builder.vertex(i & 1 ? hx : -hx, i & 2 ? hy : -hy, i & 4 ? hz : -hz);
  }
  builder.quad(corner[0], corner[2], corner[3], corner[1]);  // z-
  builder.quad(corner[4], corner[5], corner[7], corner[6]);  // z+
  builder.quad(corner[0], corner[1], corner[5], corner[4]);  // y-
  builder.quad(corner[2], corner[6], corner[7], corner[3]);  // y+
  builder.quad(corner[0], corner[4], corner[6], corner[2]);  // x-
  builder.quad(corner[1], corner[3], corner[7], corner[5]);  // x+
}

void build_ellipsoid(MeshBuilder& builder, double radius, double half_height, int segments) {
  const int rings = segments / 2;
  const uint32_t bottom = builder.vertex(0.0, -half_height, 0.0);
  std::vector<std::vector<uint32_t>> rows;
  for (int r = 1; r < rings; ++r) {
    const double polar = std::numbers::pi * r / rings;  // from the bottom pole
    rows.push_back(
        ring(builder, radius * std::sin(polar), -half_height * std::cos(polar), segments));
  }
  const uint32_t top = builder.vertex(0.0, half_height, 0.0);
  cap(builder, bottom, rows.front());
  for (size_t r = 0; r + 1 < rows.size(); ++r) {
    for (int i = 0; i < segments; ++i) {
      const int j = (i + 1) % segments;
      builder.quad(rows[r][i], rows[r + 1][i], rows[r + 1][j], rows[r][j]);
    }
  }
  cap(builder, top, rows.back());
}

void build_cone(MeshBuilder& builder, double radius, double half_height, int segments) {
  const std::vector<uint32_t> base = ring(builder, radius, -half_height, segments);
  cap(builder, builder.vertex(0.0, -half_height, 0.0), base);
  cap(builder, builder.vertex(0.0, half_height, 0.0), base);
}

void build_cylinder(MeshBuilder& builder, double radius, double half_height, int segments) {
  const std::vector<uint32_t> bottom = ring(builder, radius, -half_height, segments);
  const std::vector<uint32_t> top = ring(builder, radius, half_height, segments);
  for (int i = 0; i < segments; ++i) {
    const int j = (i + 1) % segments;
    builder.quad(bottom[i], top[i], top[j], bottom[j]);
  }
  cap(builder, builder.vertex(0.0, -half_height, 0.0), bottom);
  cap(builder, builder.vertex(0.0, half_height, 0.0), top);
}

// Projects every triangle with `project` (model point -> pixel) into `image`.
template <typename Project>
void draw_silhouette(media::Image& image, const media::Mesh& mesh, Project project) {
  for (const auto& face : mesh.triangles) {
    media::fill_triangle(image, project(mesh.vertices[face[0]]), project(mesh.vertices[face[1]]),
                         project(mesh.vertices[face[2]]), kSilhouette);
  }
}

}  // namespace

media::Mesh build_primitive_mesh(const PrimitiveModel& model) {
  const double half_width = kWidth[model.stretch] * (1.0 + model.width_jitter / 100.0) / 2.0;
  const double half_height = kHeight[model.stretch] / 2.0;
  const int segments = kSegments[model.variant];
  MeshBuilder builder;
  switch (model.primitive) {
    case 0:
      build_box(builder, half_width, half_height, half_width);
      break;
    case 1:
      build_ellipsoid(builder, half_width, half_height, segments);
      break;
    case 2:
      build_cone(builder, half_width, half_height, segments);
      break;
    default:
      build_cylinder(builder, half_width, half_height, segments);
      break;
  }
  media::Mesh mesh = builder.take();
  if (model.pose == 1) {
    // Lying on its side: a quarter turn about z takes the height axis (y) to x.
    for (Vec3& v : mesh.vertices) v = Vec3{v[1], -v[0], v[2]};
  }
  return mesh;
}

media::Image render_views(const media::Mesh& mesh, int cell, media::Rgb background) {
  double extent = 0.0;
  for (const Vec3& v : mesh.vertices) {
    extent = std::max(extent,
                      std::sqrt(double(v[0]) * v[0] + double(v[1]) * v[1] + double(v[2]) * v[2]));
  }
  const double scale = 0.46 * cell / std::max(extent, 1e-9);
  const double half = cell / 2.0;
  media::Image image = media::solid_image(2 * cell, 2 * cell, background);
  // Cell origins (left, top) and, per view, the model axes on the image's right and up.
  auto to_pixel = [&](int left, int top, double right, double up) {
    return media::Point2{left + half + scale * right, top + half - scale * up};
  };
  draw_silhouette(image, mesh, [&](const Vec3& v) { return to_pixel(0, 0, v[0], v[1]); });
  draw_silhouette(image, mesh, [&](const Vec3& v) { return to_pixel(cell, 0, v[2], v[1]); });
  draw_silhouette(image, mesh, [&](const Vec3& v) { return to_pixel(0, cell, v[0], -v[2]); });
  const double yaw = std::numbers::pi / 5.0;
  const double pitch = std::numbers::pi / 7.0;
  draw_silhouette(image, mesh, [&](const Vec3& v) {
    const double x = v[0] * std::cos(yaw) + v[2] * std::sin(yaw);
    const double z = -v[0] * std::sin(yaw) + v[2] * std::cos(yaw);
    const double y = v[1] * std::cos(pitch) - z * std::sin(pitch);
    return to_pixel(cell, cell, x, y);
  });
  return image;
}

std::string primitive_model_file(MediaPool& pool, const PrimitiveModel& model, ModelForm form,
                                 Split split, int image_size) {
  const std::string stem =
      std::string(split_name(split)) + "/" +
      media_stem({kMeshWorld, static_cast<uint64_t>(split), static_cast<uint64_t>(model.primitive),
                  static_cast<uint64_t>(model.stretch), static_cast<uint64_t>(model.pose),
                  static_cast<uint64_t>(model.variant),
                  static_cast<uint64_t>(model.width_jitter + 10)});
  switch (form) {
    case ModelForm::ply:
      return pool.file("media/mesh/" + stem + ".ply", [&](const std::string& path) {
        media::write_ply(path, build_primitive_mesh(model));
      });
    case ModelForm::obj:
      return pool.file("media/mesh/" + stem + ".obj", [&](const std::string& path) {
        media::write_obj(path, build_primitive_mesh(model));
      });
    default:
      return pool.file("media/views/" + stem + ".png", [&](const std::string& path) {
        media::write_png(path, render_views(build_primitive_mesh(model), image_size,
                                            split_background(kViewBackground, split)));
      });
  }
}

ComboGrid primitive_grid(uint64_t seed, bool hold_out) {
  return ComboGrid(static_cast<int>(kStretchNames.size()), static_cast<int>(kPrimitiveNames.size()),
                   2, seed, kMeshWorld, hold_out);
}

}  // namespace omnirm::synth::detail
