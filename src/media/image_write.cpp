// PNG and JPEG (stb_image_write) and WebP (libwebp) writers for 8-bit RGB images.
#include <stb_image_write.h>
#include <webp/encode.h>

#include <string>

#include "file_write.h"
#include "omnirm/media/media_write.h"

namespace omnirm::media {
namespace {

void check_image(const std::string& path, const Image& image) {
  if (image.width <= 0 || image.height <= 0 ||
      image.pixels.size() != static_cast<size_t>(image.width) * image.height * 3) {
    detail::fail_write(path, "the image to write is empty or its pixel buffer has the wrong size");
  }
}

}  // namespace

void write_png(const std::string& path, const Image& image) {
  check_image(path, image);
  if (!stbi_write_png(path.c_str(), image.width, image.height, 3, image.pixels.data(),
                      image.width * 3)) {
    detail::fail_write(path, "cannot write the PNG file");
  }
}

void write_jpeg(const std::string& path, const Image& image, int quality) {
  check_image(path, image);
  if (!stbi_write_jpg(path.c_str(), image.width, image.height, 3, image.pixels.data(), quality)) {
    detail::fail_write(path, "cannot write the JPEG file");
  }
}

void write_webp(const std::string& path, const Image& image, bool lossless) {
  check_image(path, image);
  uint8_t* output = nullptr;
  const size_t size = lossless ? WebPEncodeLosslessRGB(image.pixels.data(), image.width,
                                                       image.height, image.width * 3, &output)
                               : WebPEncodeRGB(image.pixels.data(), image.width, image.height,
                                               image.width * 3, 90.0f, &output);
  if (size == 0) detail::fail_write(path, "WebP encoding failed");
  try {
    detail::write_whole_file(path, output, size);
  } catch (...) {
    WebPFree(output);
    throw;
  }
  WebPFree(output);
}

}  // namespace omnirm::media
