// Pre-import checks of 3D files (see mesh_precheck.h). These walk the file's layout only —
// counts, sizes, tokens — and never build geometry; Assimp does the actual reading.
#include "mesh_precheck.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "media_common.h"

namespace omnirm::media::detail {
namespace {

constexpr std::string_view kReexport = "re-export the 3D file";
constexpr size_t kMaxPlyHeaderBytes = 1 << 16;
constexpr int64_t kMaxListLength = 1 << 16;

struct PlyProperty {
  int size = 0;        // bytes of a scalar, or of a list's items
  int count_size = 0;  // bytes of a list's length field; 0 for a scalar
  bool count_signed = false;
};

struct PlyElement {
  std::string name;
  int64_t count = 0;
  std::vector<PlyProperty> properties;
};

enum class PlyEncoding { ascii, binary_little, binary_big };

int ply_type_size(const std::string& type) {
  if (type == "char" || type == "uchar" || type == "int8" || type == "uint8") return 1;
  if (type == "short" || type == "ushort" || type == "int16" || type == "uint16") return 2;
  if (type == "int" || type == "uint" || type == "int32" || type == "uint32" || type == "float" ||
      type == "float32") {
    return 4;
  }
  if (type == "double" || type == "float64") return 8;
  return 0;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// Walks the binary body record by record, reading only list lengths.
void check_ply_binary_body(const std::string& path, const std::vector<uint8_t>& bytes, size_t body,
                           PlyEncoding encoding, const std::vector<PlyElement>& elements) {
  size_t pos = body;
  auto truncated = [&] {
    fail(path, "truncated PLY (the body is shorter than the header declares)", kReexport);
  };
  for (const PlyElement& element : elements) {
    const bool fixed = std::all_of(element.properties.begin(), element.properties.end(),
                                   [](const PlyProperty& p) { return p.count_size == 0; });
    if (fixed) {
      size_t record = 0;
      for (const PlyProperty& p : element.properties) record += static_cast<size_t>(p.size);
      const size_t remaining = bytes.size() - pos;
      if (record != 0 && static_cast<size_t>(element.count) > remaining / record) truncated();
      pos += record * static_cast<size_t>(element.count);
      continue;
    }
    for (int64_t r = 0; r < element.count; ++r) {
      for (const PlyProperty& p : element.properties) {
        if (p.count_size == 0) {
          if (bytes.size() - pos < static_cast<size_t>(p.size)) truncated();
          pos += static_cast<size_t>(p.size);
          continue;
        }
        if (bytes.size() - pos < static_cast<size_t>(p.count_size)) truncated();
        uint64_t length = 0;
        for (int b = 0; b < p.count_size; ++b) {
          const int shift =
              encoding == PlyEncoding::binary_little ? 8 * b : 8 * (p.count_size - 1 - b);
          length |= uint64_t{bytes[pos + static_cast<size_t>(b)]} << shift;
        }
        if (p.count_signed && (length >> (8 * p.count_size - 1)) & 1) {
          fail(path, "corrupt PLY (a negative list length)", kReexport);
        }
        if (length > static_cast<uint64_t>(kMaxListLength)) {
          fail(path, "corrupt PLY (a list of " + std::to_string(length) + " items)", kReexport);
        }
        pos += static_cast<size_t>(p.count_size);
        if ((bytes.size() - pos) / static_cast<size_t>(p.size) < length) truncated();
        pos += static_cast<size_t>(length) * static_cast<size_t>(p.size);
      }
    }
  }
}

// Splits the next whitespace-separated token off the front of `rest`.
bool next_token(std::string_view* rest, std::string_view* token) {
  const size_t begin = rest->find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return false;
  const size_t end = std::min(rest->find_first_of(" \t\r", begin), rest->size());
  *token = rest->substr(begin, end - begin);
  rest->remove_prefix(end);
  return true;
}

// Walks the ASCII body: one record per line, one token per scalar, a length token then that
// many tokens per list.
void check_ply_ascii_body(const std::string& path, const std::vector<uint8_t>& bytes, size_t body,
                          const std::vector<PlyElement>& elements) {
  size_t pos = body;
  auto next_line = [&](std::string_view* line) {
    while (pos < bytes.size()) {
      const auto* start = reinterpret_cast<const char*>(bytes.data() + pos);
      const auto* end = static_cast<const char*>(std::memchr(start, '\n', bytes.size() - pos));
      const size_t length = end ? static_cast<size_t>(end - start) : bytes.size() - pos;
      pos += length + 1;
      *line = std::string_view(start, length);
      if (line->find_first_not_of(" \t\r") != std::string_view::npos) return true;
    }
    return false;
  };
  for (const PlyElement& element : elements) {
    for (int64_t r = 0; r < element.count; ++r) {
      std::string_view line;
      if (!next_line(&line)) {
        fail(path,
             "truncated PLY (" + element.name + " " + std::to_string(r) + " of " +
                 std::to_string(element.count) + " is missing)",
             kReexport);
      }
      for (const PlyProperty& p : element.properties) {
        int64_t needed = 1;
        if (p.count_size != 0) {
          std::string_view token;
          int64_t length = -1;
          if (next_token(&line, &token)) {
            std::from_chars(token.data(), token.data() + token.size(), length);
          }
          if (length < 0 || length > kMaxListLength) {
            fail(path,
                 "corrupt PLY (" + element.name + " " + std::to_string(r) +
                     " has a bad list length)",
                 kReexport);
          }
          needed = length;
        }
        for (int64_t t = 0; t < needed; ++t) {
          std::string_view token;
          if (!next_token(&line, &token)) {
            fail(path,
                 "truncated or corrupt PLY (" + element.name + " " + std::to_string(r) +
                     " has too few values)",
                 kReexport);
          }
        }
      }
    }
  }
}

void precheck_ply(const std::string& path, const MediaLimits& limits) {
  const std::vector<uint8_t> bytes = read_file_bytes(path, limits);
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()),
                              std::min(bytes.size(), kMaxPlyHeaderBytes));
  size_t header_end = text.find("end_header");
  if (header_end == std::string_view::npos) {
    if (bytes.size() < kMaxPlyHeaderBytes) {
      fail(path, "truncated PLY (ends inside its header)", kReexport);
    }
    fail(path, "corrupt PLY (no end_header within the first 64 KiB)", kReexport);
  }
  size_t body = text.find('\n', header_end);
  if (body == std::string_view::npos) {
    fail(path, "truncated PLY (ends inside its header)", kReexport);
  }
  ++body;

  std::istringstream header{std::string(text.substr(0, header_end))};
  std::string line;
  PlyEncoding encoding = PlyEncoding::ascii;
  std::vector<PlyElement> elements;
  while (std::getline(header, line)) {
    std::istringstream words(line);
    std::string keyword;
    words >> keyword;
    if (keyword == "format") {
      std::string name;
      words >> name;
      if (name == "binary_little_endian") {
        encoding = PlyEncoding::binary_little;
      } else if (name == "binary_big_endian") {
        encoding = PlyEncoding::binary_big;
      } else if (name != "ascii") {
        fail(path, "corrupt PLY (unknown format '" + name + "')", kReexport);
      }
    } else if (keyword == "element") {
      PlyElement element;
      if (!(words >> element.name >> element.count) || element.count < 0) {
        fail(path, "corrupt PLY (bad element line '" + line + "')", kReexport);
      }
      elements.push_back(element);
    } else if (keyword == "property") {
      std::string type, count_type, item_type;
      words >> type;
      PlyProperty property;
      if (type == "list") {
        words >> count_type >> item_type;
        property.count_size = ply_type_size(count_type);
        property.count_signed = count_type.front() != 'u';
        property.size = ply_type_size(item_type);
        if (property.count_size == 0 || property.size == 0) property.size = 0;
      } else {
        property.size = ply_type_size(type);
      }
      if (elements.empty() || property.size == 0) {
        fail(path, "corrupt PLY (bad property line '" + line + "')", kReexport);
      }
      elements.back().properties.push_back(property);
    }
  }

  for (const PlyElement& element : elements) {
    const bool is_vertex = element.name == "vertex";
    const bool is_face = element.name == "face";
    const int64_t limit = is_vertex ? limits.max_mesh_vertices
                          : is_face ? limits.max_mesh_faces
                                    : limits.max_mesh_vertices + limits.max_mesh_faces;
    if (element.count > limit) {
      fail(path,
           "declares " + std::to_string(element.count) + " " + element.name +
               " elements, over the limit of " + std::to_string(limit),
           "simplify the mesh or raise the media mesh limits");
    }
  }
  if (encoding == PlyEncoding::ascii) {
    check_ply_ascii_body(path, bytes, body, elements);
  } else {
    check_ply_binary_body(path, bytes, body, encoding, elements);
  }
}

// A binary STL declares its triangle count at byte 80 and is exactly 84 + 50 * count bytes.
// A file whose size does not match is taken as ASCII STL, bounded by the file-size limit.
void precheck_stl(const std::string& path, const MediaLimits& limits) {
  const int64_t size = checked_file_size(path, limits);
  const std::vector<uint8_t> head = read_file_head(path, 84);
  const bool ascii = head.size() >= 5 && std::memcmp(head.data(), "solid", 5) == 0;
  if (head.size() < 84) {
    if (!ascii) fail(path, "truncated STL (shorter than its 84-byte header)", kReexport);
    return;
  }
  const int64_t count = int64_t{head[80]} | (int64_t{head[81]} << 8) | (int64_t{head[82]} << 16) |
                        (int64_t{head[83]} << 24);
  if (ascii && 84 + 50 * count != size) return;
  if (count > limits.max_mesh_faces) {
    fail(path,
         "declares " + std::to_string(count) + " triangles, over the limit of " +
             std::to_string(limits.max_mesh_faces),
         "simplify the mesh or raise the media mesh limits");
  }
  if (84 + 50 * count > size) {
    fail(path, "truncated STL (shorter than its triangle count)", kReexport);
  }
}

// OBJ declares nothing; count its vertex and face lines instead.
void precheck_obj(const std::string& path, const MediaLimits& limits) {
  const std::vector<uint8_t> bytes = read_file_bytes(path, limits);
  int64_t vertices = 0, faces = 0;
  bool line_start = true;
  for (size_t i = 0; i + 1 < bytes.size(); ++i) {
    if (line_start && bytes[i] == 'v' && (bytes[i + 1] == ' ' || bytes[i + 1] == '\t')) ++vertices;
    if (line_start && bytes[i] == 'f' && (bytes[i + 1] == ' ' || bytes[i + 1] == '\t')) ++faces;
    line_start = bytes[i] == '\n';
  }
  if (vertices > limits.max_mesh_vertices || faces > limits.max_mesh_faces) {
    fail(path,
         "has " + std::to_string(vertices) + " vertices and " + std::to_string(faces) +
             " faces, over the limits of " + std::to_string(limits.max_mesh_vertices) + " and " +
             std::to_string(limits.max_mesh_faces),
         "simplify the mesh or raise the media mesh limits");
  }
}

}  // namespace

void precheck_mesh_file(const std::string& path, const MediaLimits& limits) {
  const std::vector<uint8_t> head = read_file_head(path, 8);
  const std::string extension = lower(std::filesystem::path(path).extension().string());
  if (head.size() >= 4 && std::memcmp(head.data(), "ply", 3) == 0 &&
      (head[3] == '\n' || head[3] == '\r')) {
    precheck_ply(path, limits);
  } else if (extension == ".ply") {
    fail(path, "not a PLY file (it does not start with 'ply')", kReexport);
  } else if (extension == ".stl") {
    precheck_stl(path, limits);
  } else if (extension == ".obj") {
    precheck_obj(path, limits);
  }
}

}  // namespace omnirm::media::detail
