// 3D files through Assimp into a fixed-size, unit-sphere point cloud (rules in point_cloud.h).
#include "omnirm/media/point_cloud.h"

#include <assimp/postprocess.h>
#include <assimp/scene.h>

#include <algorithm>
#include <assimp/Importer.hpp>
#include <cmath>
#include <random>
#include <stdexcept>

#include "media_common.h"
#include "mesh_precheck.h"
#include "omnirm/media/format_sniff.h"

namespace omnirm::media {
namespace {

using detail::fail;
using Vec3 = std::array<double, 3>;

constexpr std::string_view kReexport = "export it as PLY, OBJ, GLB or STL";

Vec3 sub(const Vec3& a, const Vec3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
double length(const Vec3& v) { return std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]); }
Vec3 normalised(const Vec3& v) {
  const double l = length(v);
  return l > 0 ? Vec3{v[0] / l, v[1] / l, v[2] / l} : Vec3{0, 0, 0};
}

// All geometry of a scene in world coordinates.
struct Geometry {
  std::vector<Vec3> positions;
  std::vector<Vec3> normals;  // parallel to positions, or empty when some mesh has none
  bool has_normals = true;
  std::vector<std::array<uint32_t, 3>> triangles;
  int64_t faces = 0;  // every face, of any primitive type
};

void append_mesh(const aiMesh* mesh, const aiMatrix4x4& transform, Geometry* geometry) {
  const auto base = static_cast<uint32_t>(geometry->positions.size());
  aiMatrix3x3 normal_transform(transform);
  normal_transform.Inverse().Transpose();
  geometry->has_normals = geometry->has_normals && mesh->HasNormals();
  for (unsigned v = 0; v < mesh->mNumVertices; ++v) {
    const aiVector3D p = transform * mesh->mVertices[v];
    geometry->positions.push_back({p.x, p.y, p.z});
    if (mesh->HasNormals()) {
      const aiVector3D n = normal_transform * mesh->mNormals[v];
      geometry->normals.push_back(normalised({n.x, n.y, n.z}));
    } else {
      geometry->normals.push_back({0, 0, 0});
    }
  }
  geometry->faces += mesh->mNumFaces;
  for (unsigned f = 0; f < mesh->mNumFaces; ++f) {
    const aiFace& face = mesh->mFaces[f];
    if (face.mNumIndices != 3) continue;
    if (face.mIndices[0] >= mesh->mNumVertices || face.mIndices[1] >= mesh->mNumVertices ||
        face.mIndices[2] >= mesh->mNumVertices) {
      continue;
    }
    geometry->triangles.push_back(
        {base + face.mIndices[0], base + face.mIndices[1], base + face.mIndices[2]});
  }
}

void collect_node(const aiScene* scene, const aiNode* node, const aiMatrix4x4& parent, int depth,
                  Geometry* geometry, int64_t* references) {
  if (depth > 256) return;  // a cyclic or absurdly deep node graph
  const aiMatrix4x4 transform = parent * node->mTransformation;
  for (unsigned i = 0; i < node->mNumMeshes; ++i) {
    if (node->mMeshes[i] >= scene->mNumMeshes) continue;
    append_mesh(scene->mMeshes[node->mMeshes[i]], transform, geometry);
    ++*references;
  }
  for (unsigned i = 0; i < node->mNumChildren; ++i) {
    collect_node(scene, node->mChildren[i], transform, depth + 1, geometry, references);
  }
}

Geometry collect_geometry(const std::string& path, const aiScene* scene,
                          const MediaLimits& limits) {
  int64_t vertices = 0, faces = 0;
  for (unsigned i = 0; i < scene->mNumMeshes; ++i) {
    vertices += scene->mMeshes[i]->mNumVertices;
    faces += scene->mMeshes[i]->mNumFaces;
  }
  if (vertices > limits.max_mesh_vertices || faces > limits.max_mesh_faces) {
    fail(path,
         "has " + std::to_string(vertices) + " vertices and " + std::to_string(faces) +
             " faces, over the limits of " + std::to_string(limits.max_mesh_vertices) + " and " +
             std::to_string(limits.max_mesh_faces),
         "simplify the mesh or raise the media mesh limits");
  }
  Geometry geometry;
  int64_t references = 0;
  if (scene->mRootNode != nullptr) {
    collect_node(scene, scene->mRootNode, aiMatrix4x4(), 0, &geometry, &references);
  }
  if (references == 0) {  // meshes without nodes: take them as they are
    for (unsigned i = 0; i < scene->mNumMeshes; ++i) {
      append_mesh(scene->mMeshes[i], aiMatrix4x4(), &geometry);
    }
  }
  if (geometry.positions.empty()) fail(path, "contains no geometry", kReexport);
  if (static_cast<int64_t>(geometry.positions.size()) > limits.max_mesh_vertices) {
    fail(path, "instances more than " + std::to_string(limits.max_mesh_vertices) + " vertices",
         "simplify the mesh or raise the media mesh limits");
  }
  return geometry;
}

// Uniform in [0, 1) from 53 random bits: the same sequence on every platform.
double uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

void sample_surface(const Geometry& geometry, const std::vector<double>& cumulative_area, int count,
                    std::mt19937_64& rng, std::vector<Vec3>* points, std::vector<Vec3>* normals) {
  const double total = cumulative_area.back();
  for (int i = 0; i < count; ++i) {
    const double pick = uniform(rng) * total;
    size_t t =
        static_cast<size_t>(std::upper_bound(cumulative_area.begin(), cumulative_area.end(), pick) -
                            cumulative_area.begin());
    t = std::min(t, cumulative_area.size() - 1);
    const auto& triangle = geometry.triangles[t];
    double u = uniform(rng), v = uniform(rng);
    if (u + v > 1.0) {
      u = 1.0 - u;
      v = 1.0 - v;
    }
    const Vec3& a = geometry.positions[triangle[0]];
    const Vec3& b = geometry.positions[triangle[1]];
    const Vec3& c = geometry.positions[triangle[2]];
    const double w = 1.0 - u - v;
    points->push_back({w * a[0] + u * b[0] + v * c[0], w * a[1] + u * b[1] + v * c[1],
                       w * a[2] + u * b[2] + v * c[2]});
    Vec3 normal{0, 0, 0};
    if (geometry.has_normals) {
      const Vec3& na = geometry.normals[triangle[0]];
      const Vec3& nb = geometry.normals[triangle[1]];
      const Vec3& nc = geometry.normals[triangle[2]];
      normal = normalised({w * na[0] + u * nb[0] + v * nc[0], w * na[1] + u * nb[1] + v * nc[1],
                           w * na[2] + u * nb[2] + v * nc[2]});
    }
    if (length(normal) == 0.0) normal = normalised(cross(sub(b, a), sub(c, a)));
    normals->push_back(normal);
  }
}

void sample_vertices(const Geometry& geometry, int count, std::mt19937_64& rng,
                     std::vector<Vec3>* points, std::vector<Vec3>* normals) {
  const size_t available = geometry.positions.size();
  std::vector<size_t> chosen;
  if (available >= static_cast<size_t>(count)) {
    // The first `count` steps of a Fisher-Yates shuffle: a subset without repetition.
    std::vector<uint32_t> order(available);
    for (size_t i = 0; i < available; ++i) order[i] = static_cast<uint32_t>(i);
    for (size_t i = 0; i < static_cast<size_t>(count); ++i) {
      const size_t j = i + static_cast<size_t>(uniform(rng) * static_cast<double>(available - i));
      std::swap(order[i], order[std::min(j, available - 1)]);
      chosen.push_back(order[i]);
    }
  } else {
    for (size_t i = 0; i < available; ++i) chosen.push_back(i);
    while (chosen.size() < static_cast<size_t>(count)) {
      chosen.push_back(std::min(static_cast<size_t>(uniform(rng) * static_cast<double>(available)),
                                available - 1));
    }
  }
  for (const size_t index : chosen) {
    points->push_back(geometry.positions[index]);
    normals->push_back(geometry.normals[index]);
  }
}

}  // namespace

PointCloud decode_point_cloud(const std::string& path, const PointCloudOptions& options,
                              const MediaLimits& limits) {
  if (options.num_points <= 0) throw std::invalid_argument("decode_point_cloud: num_points <= 0");
  detail::checked_file_size(path, limits);
  const MediaFormat format = sniff_format(detail::read_file_head(path, 64));
  const MediaKind kind = format_kind(format);
  if (kind == MediaKind::image || kind == MediaKind::audio || kind == MediaKind::video) {
    fail(path, "is a " + std::string(format_description(format)) + " file, not a 3D file",
         "fix the path or the content part's type (rendered views are images)");
  }
  detail::precheck_mesh_file(path, limits);

  Assimp::Importer importer;
  const aiScene* scene = importer.ReadFile(path, aiProcess_Triangulate);
  if (scene == nullptr) {
    fail(path, std::string("cannot be read as a 3D file (") + importer.GetErrorString() + ")",
         kReexport);
  }
  const Geometry geometry = collect_geometry(path, scene, limits);

  std::vector<double> cumulative_area;
  cumulative_area.reserve(geometry.triangles.size());
  double total_area = 0.0;
  for (const auto& triangle : geometry.triangles) {
    const Vec3& a = geometry.positions[triangle[0]];
    total_area += 0.5 * length(cross(sub(geometry.positions[triangle[1]], a),
                                     sub(geometry.positions[triangle[2]], a)));
    cumulative_area.push_back(total_area);
  }

  std::mt19937_64 rng(options.seed);
  std::vector<Vec3> points, normals;
  points.reserve(static_cast<size_t>(options.num_points));
  normals.reserve(static_cast<size_t>(options.num_points));
  PointCloud cloud;
  cloud.source_vertices = static_cast<int64_t>(geometry.positions.size());
  cloud.source_faces = geometry.faces;
  cloud.sampled_from_surface = total_area > 0.0 && std::isfinite(total_area);
  if (cloud.sampled_from_surface) {
    sample_surface(geometry, cumulative_area, options.num_points, rng, &points, &normals);
  } else {
    sample_vertices(geometry, options.num_points, rng, &points, &normals);
  }

  Vec3 centre{0, 0, 0};
  for (const Vec3& p : points) {
    for (int c = 0; c < 3; ++c) centre[c] += p[c];
  }
  for (int c = 0; c < 3; ++c) centre[c] /= static_cast<double>(points.size());
  double radius = 0.0;
  for (const Vec3& p : points) radius = std::max(radius, length(sub(p, centre)));
  if (!(radius > 1e-12 * std::max(1.0, length(centre))) || !std::isfinite(radius)) {
    fail(path, "all points lie at one place (or are not finite numbers)", kReexport);
  }

  cloud.num_points = options.num_points;
  cloud.centre = centre;
  cloud.scale = radius;
  cloud.xyz.reserve(points.size() * 3);
  for (const Vec3& p : points) {
    for (int c = 0; c < 3; ++c)
      cloud.xyz.push_back(static_cast<float>((p[c] - centre[c]) / radius));
  }
  if (options.with_normals) {
    cloud.normals.reserve(normals.size() * 3);
    for (const Vec3& n : normals) {
      for (int c = 0; c < 3; ++c) cloud.normals.push_back(static_cast<float>(n[c]));
    }
  }
  return cloud;
}

}  // namespace omnirm::media
