// 3D decoding on OBJ and PLY files written as text (and one binary PLY) at test time:
// surface sampling weighted by area, point-cloud subsets, normals, normalisation, seeds.
#include <gtest/gtest.h>

#include <filesystem>

#include <cmath>
#include <set>
#include <sstream>

#include "omnirm/media/point_cloud.h"
#include "support/test_support.h"
#include "unit/media/media_writers.h"

namespace omnirm::media {
namespace {

using omnirm::testing::write_file;

// A box [0, 4] x [0, 1] x [0, 1] moved by (10, 20, 30), as 12 triangles (OBJ, 1-based).
std::string box_obj() {
  std::ostringstream obj;
  for (int i = 0; i < 8; ++i) {
    obj << "v " << 10 + 4 * (i & 1) << " " << 20 + ((i >> 1) & 1) << " " << 30 + ((i >> 2) & 1)
        << "\n";
  }
  // Corner index = 1 + x + 2y + 4z.
  obj << "f 1 3 4\nf 1 4 2\n"   // z = 0
      << "f 5 6 8\nf 5 8 7\n"   // z = 1
      << "f 1 2 6\nf 1 6 5\n"   // y = 0
      << "f 3 7 8\nf 3 8 4\n"   // y = 1
      << "f 1 5 7\nf 1 7 3\n"   // x = 0
      << "f 2 4 8\nf 2 8 6\n";  // x = 4
  return obj.str();
}

// `count` points on a helix, as an ASCII PLY without faces.
std::string helix_ply(int count) {
  std::ostringstream ply;
  ply << "ply\nformat ascii 1.0\nelement vertex " << count
      << "\nproperty float x\nproperty float y\nproperty float z\nend_header\n";
  for (int i = 0; i < count; ++i) {
    ply << std::cos(0.3 * i) << " " << std::sin(0.3 * i) << " " << 0.05 * i << "\n";
  }
  return ply.str();
}

std::array<double, 3> original(const PointCloud& cloud, int i) {
  std::array<double, 3> p;
  for (int c = 0; c < 3; ++c)
    p[c] = cloud.xyz[static_cast<size_t>(i) * 3 + c] * cloud.scale + cloud.centre[c];
  return p;
}

void expect_unit_sphere_normalised(const PointCloud& cloud) {
  double mean[3] = {0, 0, 0}, radius = 0;
  for (int i = 0; i < cloud.num_points; ++i) {
    double r2 = 0;
    for (int c = 0; c < 3; ++c) {
      const double v = cloud.xyz[static_cast<size_t>(i) * 3 + c];
      mean[c] += v;
      r2 += v * v;
    }
    radius = std::max(radius, std::sqrt(r2));
  }
  EXPECT_NEAR(radius, 1.0, 1e-6);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(mean[c] / cloud.num_points, 0.0, 1e-5);
}

class MediaPointCloud : public ::testing::Test {
 protected:
  std::string dir_ = omnirm::testing::make_temp_dir("media-3d");
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  void TearDown() override { std::filesystem::remove_all(dir_); }
};

TEST_F(MediaPointCloud, MeshSurfaceIsSampledByArea) {
  write_file(path("box.obj"), box_obj());
  const PointCloud cloud = decode_point_cloud(path("box.obj"), {.num_points = 20000, .seed = 7});
  ASSERT_EQ(cloud.num_points, 20000);
  ASSERT_EQ(cloud.xyz.size(), 60000u);
  EXPECT_TRUE(cloud.sampled_from_surface);
  EXPECT_EQ(cloud.source_vertices, 36);  // OBJ faces do not share vertices in Assimp
  EXPECT_EQ(cloud.source_faces, 12);
  EXPECT_TRUE(cloud.normals.empty());
  expect_unit_sphere_normalised(cloud);
  EXPECT_NEAR(cloud.centre[0], 12.0, 0.05);
  EXPECT_NEAR(cloud.centre[1], 20.5, 0.02);
  EXPECT_NEAR(cloud.centre[2], 30.5, 0.02);

  // Every point lies on the box surface; the two 1x1 end caps hold 2 of 18 area units.
  int on_end_caps = 0;
  for (int i = 0; i < cloud.num_points; ++i) {
    const auto p = original(cloud, i);
    const double local[3] = {p[0] - 10, p[1] - 20, p[2] - 30};
    const double to_face =
        std::min({std::abs(local[0]), std::abs(local[0] - 4), std::abs(local[1]),
                  std::abs(local[1] - 1), std::abs(local[2]), std::abs(local[2] - 1)});
    ASSERT_LT(to_face, 1e-4) << "point " << i;
    ASSERT_GT(local[0], -1e-4);
    ASSERT_LT(local[0], 4 + 1e-4);
    if (std::abs(local[0]) < 1e-4 || std::abs(local[0] - 4) < 1e-4) ++on_end_caps;
  }
  EXPECT_NEAR(on_end_caps / 20000.0, 2.0 / 18.0, 0.012);
}

TEST_F(MediaPointCloud, NormalsAreUnitAndPerpendicularToTheFace) {
  write_file(path("box.obj"), box_obj());
  const PointCloud cloud =
      decode_point_cloud(path("box.obj"), {.num_points = 500, .with_normals = true});
  ASSERT_EQ(cloud.normals.size(), 1500u);
  for (int i = 0; i < cloud.num_points; ++i) {
    const auto p = original(cloud, i);
    const float* n = cloud.normals.data() + static_cast<size_t>(i) * 3;
    EXPECT_NEAR(std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]), 1.0, 1e-5);
    const bool on_x_face = std::abs(p[0] - 10) < 1e-4 || std::abs(p[0] - 14) < 1e-4;
    if (on_x_face) {
      EXPECT_NEAR(std::abs(n[0]), 1.0, 1e-5) << "point " << i;
    }
  }
}

TEST_F(MediaPointCloud, SameSeedSamePointsOtherSeedOtherPoints) {
  write_file(path("box.obj"), box_obj());
  const PointCloud a = decode_point_cloud(path("box.obj"), {.num_points = 256, .seed = 1});
  const PointCloud b = decode_point_cloud(path("box.obj"), {.num_points = 256, .seed = 1});
  const PointCloud c = decode_point_cloud(path("box.obj"), {.num_points = 256, .seed = 2});
  EXPECT_EQ(a.xyz, b.xyz);
  EXPECT_NE(a.xyz, c.xyz);
}

TEST_F(MediaPointCloud, PointCloudSubsetHasNoRepeats) {
  write_file(path("helix.ply"), helix_ply(100));
  const PointCloud cloud = decode_point_cloud(path("helix.ply"), {.num_points = 60});
  EXPECT_FALSE(cloud.sampled_from_surface);
  EXPECT_EQ(cloud.source_vertices, 100);
  ASSERT_EQ(cloud.num_points, 60);
  std::set<long> heights;  // z = 0.05 i identifies helix point i
  for (int i = 0; i < 60; ++i) {
    const double z = original(cloud, i)[2];
    const long index = std::lround(z / 0.05);
    EXPECT_NEAR(z, 0.05 * index, 1e-4);
    heights.insert(index);
  }
  EXPECT_EQ(heights.size(), 60u);
  expect_unit_sphere_normalised(cloud);
}

TEST_F(MediaPointCloud, SmallPointCloudTakesEveryPointThenRepeats) {
  write_file(path("helix.ply"), helix_ply(40));
  const PointCloud cloud = decode_point_cloud(path("helix.ply"), {.num_points = 100});
  ASSERT_EQ(cloud.num_points, 100);
  std::set<long> heights;
  for (int i = 0; i < 100; ++i) heights.insert(std::lround(original(cloud, i)[2] / 0.05));
  EXPECT_EQ(heights.size(), 40u);
  EXPECT_EQ(*heights.begin(), 0);
  EXPECT_EQ(*heights.rbegin(), 39);
}

TEST_F(MediaPointCloud, BinaryPlyMeshIsRead) {
  // A tetrahedron, little-endian binary PLY.
  std::string ply =
      "ply\nformat binary_little_endian 1.0\nelement vertex 4\nproperty float x\n"
      "property float y\nproperty float z\nelement face 4\n"
      "property list uchar int vertex_indices\nend_header\n";
  const float vertices[12] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
  ply.append(reinterpret_cast<const char*>(vertices), sizeof(vertices));
  const int faces[4][3] = {{0, 2, 1}, {0, 1, 3}, {0, 3, 2}, {1, 2, 3}};
  for (const auto& face : faces) {
    ply.push_back(3);
    ply.append(reinterpret_cast<const char*>(face), sizeof(face));
  }
  write_file(path("tetra.ply"), ply);
  const PointCloud cloud = decode_point_cloud(path("tetra.ply"), {.num_points = 1000});
  EXPECT_TRUE(cloud.sampled_from_surface);
  EXPECT_EQ(cloud.source_faces, 4);
  for (int i = 0; i < cloud.num_points; ++i) {
    const auto p = original(cloud, i);
    ASSERT_GT(std::min({p[0], p[1], p[2]}), -1e-5);
    ASSERT_LT(p[0] + p[1] + p[2], 1 + 1e-5);
  }
  expect_unit_sphere_normalised(cloud);
}

}  // namespace
}  // namespace omnirm::media
