// 3D decoding: a mesh or point cloud file (PLY, OBJ, GLB, STL, ... through Assimp) sampled
// to a fixed number of points, normalised to the unit sphere.
//
// - Files with triangles (after triangulation) of non-zero total area: points are sampled on
//   the surface, each triangle chosen with probability proportional to its area and the point
//   placed uniformly inside it. Normals (optional) are the interpolated vertex normals when
//   the file has them, otherwise the triangle's geometric normal.
// - Files without faces (point clouds): a random subset of the vertices without repetition
//   when there are at least num_points of them; otherwise every vertex once, then random
//   vertices repeated to make up the count. Normals come from the file, or are zero.
// - Node transforms of the scene are applied. Sampling is deterministic for a given seed.
// - Normalisation: the centroid (mean of the sampled points) is moved to the origin, then
//   all points are divided by the largest distance from it, so the farthest point lies on the
//   unit sphere. `centre` and `scale` record the transform: original = xyz * scale + centre.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "omnirm/media/limits.h"

namespace omnirm::media {

struct PointCloudOptions {
  int num_points = 8192;
  bool with_normals = false;
  uint64_t seed = 0;
};

struct PointCloud {
  int num_points = 0;
  std::vector<float> xyz;      // [num_points, 3], float32, row-major
  // [num_points, 3], float32, unit vectors (zero for a point cloud whose file has none);
  // empty unless options.with_normals.
  std::vector<float> normals;
  std::array<double, 3> centre = {0.0, 0.0, 0.0};
  double scale = 1.0;
  bool sampled_from_surface = false;  // true: triangles; false: a point cloud's vertices
  int64_t source_vertices = 0;
  int64_t source_faces = 0;

  size_t byte_size() const { return (xyz.size() + normals.size()) * sizeof(float); }
};

// Throws omnirm::UserError "<path>: what; what to do" on a missing, oversized, truncated or
// corrupt file, a file with no geometry, all points at one place, or declared element counts
// beyond `limits` (PLY headers and binary STL counts are checked before Assimp reads the file).
PointCloud decode_point_cloud(const std::string& path, const PointCloudOptions& options = {},
                              const MediaLimits& limits = {});

}  // namespace omnirm::media
