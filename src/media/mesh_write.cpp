// Mesh writers: ASCII PLY and Wavefront OBJ of a triangle mesh. Numbers are printed with
// snprintf in the "C" format (6 decimals), so the text is the same on every machine.
#include <cstdio>
#include <string>

#include "file_write.h"
#include "omnirm/media/media_write.h"

namespace omnirm::media {
namespace {

void check_mesh(const std::string& path, const Mesh& mesh) {
  if (mesh.vertices.empty()) detail::fail_write(path, "the mesh to write has no vertices");
  for (size_t face = 0; face < mesh.triangles.size(); ++face) {
    for (const uint32_t index : mesh.triangles[face]) {
      if (index >= mesh.vertices.size()) {
        detail::fail_write(path, "face " + std::to_string(face) + " names vertex " +
                                     std::to_string(index) + " of " +
                                     std::to_string(mesh.vertices.size()));
      }
    }
  }
}

void append_vertex(std::string& text, const char* prefix, const std::array<float, 3>& v) {
  char line[128];
  std::snprintf(line, sizeof(line), "%s%.6f %.6f %.6f\n", prefix, static_cast<double>(v[0]),
                static_cast<double>(v[1]), static_cast<double>(v[2]));
  text += line;
}

}  // namespace

void write_ply(const std::string& path, const Mesh& mesh) {
  check_mesh(path, mesh);
  std::string text = "ply\nformat ascii 1.0\n";
  text += "element vertex " + std::to_string(mesh.vertices.size()) + "\n";
  text += "property float x\nproperty float y\nproperty float z\n";
  text += "element face " + std::to_string(mesh.triangles.size()) + "\n";
  text += "property list uchar int vertex_indices\nend_header\n";
  for (const auto& vertex : mesh.vertices) append_vertex(text, "", vertex);
  for (const auto& face : mesh.triangles) {
    text += "3 " + std::to_string(face[0]) + " " + std::to_string(face[1]) + " " +
            std::to_string(face[2]) + "\n";
  }
  detail::write_whole_file(path, text.data(), text.size());
}

void write_obj(const std::string& path, const Mesh& mesh) {
  check_mesh(path, mesh);
  std::string text;
  for (const auto& vertex : mesh.vertices) append_vertex(text, "v ", vertex);
  for (const auto& face : mesh.triangles) {
    text += "f " + std::to_string(face[0] + 1) + " " + std::to_string(face[1] + 1) + " " +
            std::to_string(face[2] + 1) + "\n";
  }
  detail::write_whole_file(path, text.data(), text.size());
}

}  // namespace omnirm::media
