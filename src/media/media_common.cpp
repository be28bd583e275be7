// One-line media errors and bounded file reads.
#include "media_common.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "omnirm/core/error.h"

namespace omnirm::media::detail {

void fail(const std::string& name, std::string_view what, std::string_view todo) {
  std::string message = name;
  message += ": ";
  message += what;
  message += "; ";
  message += todo;
  for (char& c : message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  throw UserError(message);
}

int64_t checked_file_size(const std::string& path, const MediaLimits& limits) {
  std::error_code error;
  const std::filesystem::file_status status = std::filesystem::status(path, error);
  if (error || !std::filesystem::exists(status)) {
    fail(path, "file not found", "check the path (media paths are relative to the dataset root)");
  }
  if (!std::filesystem::is_regular_file(status)) {
    fail(path, "not a regular file", "point the media path at a file");
  }
  const auto size = static_cast<int64_t>(std::filesystem::file_size(path, error));
  if (error) fail(path, "cannot read the file size (" + error.message() + ")", "check permissions");
  if (size > limits.max_file_bytes) {
    fail(path,
         "file is " + std::to_string(size) + " bytes, over the limit of " +
             std::to_string(limits.max_file_bytes),
         "shrink the file or raise the media file-size limit");
  }
  return size;
}

std::vector<uint8_t> read_file_bytes(const std::string& path, const MediaLimits& limits) {
  const int64_t size = checked_file_size(path, limits);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open the file", "check permissions");
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  in.read(reinterpret_cast<char*>(bytes.data()), size);
  if (in.gcount() != size) fail(path, "could not read the whole file", "check the disk and retry");
  return bytes;
}

std::string seconds_text(double seconds) {
  char text[48];
  std::snprintf(text, sizeof(text), "%.2f s", seconds);
  return text;
}

void check_declared_size(const std::string& name, int64_t width, int64_t height,
                         const MediaLimits& limits) {
  const std::string size = std::to_string(width) + "x" + std::to_string(height);
  if (width <= 0 || height <= 0) {
    fail(name, "declares an empty picture size " + size, "re-export the file");
  }
  if (width > limits.max_side || height > limits.max_side) {
    fail(
        name,
        "declares " + size + " pixels, a side over the limit of " + std::to_string(limits.max_side),
        "downscale the file or raise the media side limit");
  }
  if (width * height > limits.max_pixels) {
    fail(name,
         "declares " + size + " = " + std::to_string(width * height) +
             " pixels, over the limit of " + std::to_string(limits.max_pixels),
         "downscale the file or raise the media pixel limit");
  }
}

std::vector<uint8_t> read_file_head(const std::string& path, size_t count) {
  std::vector<uint8_t> bytes(count);
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(count));
  bytes.resize(static_cast<size_t>(in.gcount()));
  return bytes;
}

}  // namespace omnirm::media::detail
