// PNG and JPEG through stb_image, WebP through libwebp, to RGB uint8 (see image.h).
// Before decoding: the format is sniffed from the bytes, the declared size is checked against
// the limits, and the file's structure is walked (PNG chunks with their CRCs; JPEG markers up
// to the scan and an end-of-image marker after it; the WebP RIFF size), because the decoders
// themselves would fill a cut-off file with grey instead of failing. Alpha is dropped.
#include <stb_image.h>
#include <webp/decode.h>

#include <array>
#include <cstring>

#include "media_common.h"
#include "omnirm/media/format_sniff.h"
#include "omnirm/media/image.h"

namespace omnirm::media {
namespace {

using detail::fail;

constexpr std::string_view kReexport = "re-export or replace the image";

uint32_t read_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

uint32_t read_le32(const uint8_t* p) {
  return (uint32_t{p[3]} << 24) | (uint32_t{p[2]} << 16) | (uint32_t{p[1]} << 8) | p[0];
}

uint32_t crc32_of(const uint8_t* data, size_t size) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

// Walks the chunks after the signature up to IEND, checking each chunk's bounds and CRC.
void check_png_structure(std::span<const uint8_t> bytes, const std::string& name) {
  size_t pos = 8;
  while (true) {
    if (pos + 12 > bytes.size()) {
      fail(name, "truncated PNG (ends before its IEND chunk)", kReexport);
    }
    const uint32_t length = read_be32(bytes.data() + pos);
    if (length > bytes.size() - pos - 12) {
      fail(name, "truncated PNG (a chunk runs past the end of the file)", kReexport);
    }
    const uint8_t* type = bytes.data() + pos + 4;
    const uint32_t stored_crc = read_be32(type + 4 + length);
    if (crc32_of(type, 4 + size_t{length}) != stored_crc) {
      fail(name,
           "corrupt PNG (chunk '" + std::string(reinterpret_cast<const char*>(type), 4) +
               "' fails its CRC check)",
           kReexport);
    }
    if (std::memcmp(type, "IEND", 4) == 0) return;
    pos += 12 + size_t{length};
  }
}

// Walks the JPEG marker segments up to the first scan (SOS), then requires an end-of-image
// marker after it. Entropy-coded data never contains FF D9, so a cut file lacks it.
void check_jpeg_structure(std::span<const uint8_t> bytes, const std::string& name) {
  size_t pos = 2;
  while (true) {
    while (pos < bytes.size() && bytes[pos] == 0xFF) ++pos;  // fill bytes before a marker
    if (pos + 2 >= bytes.size()) {
      fail(name, "truncated JPEG (ends before its image data)", kReexport);
    }
    if (bytes[pos - 1] != 0xFF) fail(name, "corrupt JPEG (marker expected)", kReexport);
    const uint8_t marker = bytes[pos];
    if (marker == 0xD9) fail(name, "corrupt JPEG (ends before any image data)", kReexport);
    const size_t length = (size_t{bytes[pos + 1]} << 8) | bytes[pos + 2];
    if (length < 2 || pos + 1 + length > bytes.size()) {
      fail(name, "truncated JPEG (a segment runs past the end of the file)", kReexport);
    }
    if (marker == 0xDA) break;
    pos += 1 + length + 1;  // skip marker byte and segment; land after the next 0xFF
  }
  for (size_t i = pos; i + 1 < bytes.size(); ++i) {
    if (bytes[i] == 0xFF && bytes[i + 1] == 0xD9) return;
  }
  fail(name, "truncated JPEG (no end-of-image marker)", kReexport);
}

Image decode_png_or_jpeg(std::span<const uint8_t> bytes, const std::string& name,
                         MediaFormat format, const MediaLimits& limits) {
  const std::string_view kind = format == MediaFormat::png ? "PNG" : "JPEG";
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) fail(name, "image file too large", kReexport);
  const int size = static_cast<int>(bytes.size());
  if (format == MediaFormat::png) {
    // The size is read from IHDR here: stb_image rejects a very large one as "unknown type".
    if (bytes.size() < 24 || std::memcmp(bytes.data() + 12, "IHDR", 4) != 0) {
      fail(name, "corrupt PNG (no IHDR chunk first)", kReexport);
    }
    detail::check_declared_size(name, read_be32(bytes.data() + 16), read_be32(bytes.data() + 20),
                                limits);
  }
  int width = 0, height = 0, channels = 0;
  if (!stbi_info_from_memory(bytes.data(), size, &width, &height, &channels)) {
    fail(name, "corrupt " + std::string(kind) + " header (" + stbi_failure_reason() + ")",
         kReexport);
  }
  detail::check_declared_size(name, width, height, limits);
  if (format == MediaFormat::png) {
    check_png_structure(bytes, name);
  } else {
    check_jpeg_structure(bytes, name);
  }
  stbi_uc* pixels = stbi_load_from_memory(bytes.data(), size, &width, &height, &channels, 3);
  if (pixels == nullptr) {
    fail(name, "corrupt " + std::string(kind) + " data (" + stbi_failure_reason() + ")", kReexport);
  }
  Image image;
  image.width = width;
  image.height = height;
  image.pixels.assign(pixels, pixels + static_cast<size_t>(width) * height * 3);
  stbi_image_free(pixels);
  return image;
}

Image decode_webp(std::span<const uint8_t> bytes, const std::string& name,
                  const MediaLimits& limits) {
  if (bytes.size() < 12 || size_t{read_le32(bytes.data() + 4)} + 8 > bytes.size()) {
    fail(name, "truncated WebP (shorter than its RIFF header declares)", kReexport);
  }
  WebPBitstreamFeatures features;
  if (WebPGetFeatures(bytes.data(), bytes.size(), &features) != VP8_STATUS_OK) {
    fail(name, "corrupt WebP header", kReexport);
  }
  if (features.has_animation) {
    fail(name, "animated WebP is not supported as an image", "use a still image or a video file");
  }
  detail::check_declared_size(name, features.width, features.height, limits);
  int width = 0, height = 0;
  uint8_t* pixels = WebPDecodeRGB(bytes.data(), bytes.size(), &width, &height);
  if (pixels == nullptr) fail(name, "corrupt or truncated WebP data", kReexport);
  Image image;
  image.width = width;
  image.height = height;
  image.pixels.assign(pixels, pixels + static_cast<size_t>(width) * height * 3);
  WebPFree(pixels);
  return image;
}

}  // namespace

Image decode_image_bytes(std::span<const uint8_t> bytes, const std::string& name,
                         const ImageOptions& options, const MediaLimits& limits) {
  if (static_cast<int64_t>(bytes.size()) > limits.max_file_bytes) {
    fail(name, "image is " + std::to_string(bytes.size()) + " bytes, over the file-size limit",
         "shrink the file or raise the media file-size limit");
  }
  if (bytes.empty()) fail(name, "file is empty", "replace it with a PNG, JPEG or WebP image");
  const MediaFormat format = sniff_format(bytes.first(std::min<size_t>(bytes.size(), 64)));
  Image image;
  switch (format) {
    case MediaFormat::png:
    case MediaFormat::jpeg:
      image = decode_png_or_jpeg(bytes, name, format, limits);
      break;
    case MediaFormat::webp:
      image = decode_webp(bytes, name, limits);
      break;
    case MediaFormat::gif:
    case MediaFormat::bmp:
      fail(name, std::string(format_description(format)) + " is not supported",
           "convert it to PNG, JPEG or WebP");
    case MediaFormat::unknown:
      fail(name, "not a PNG, JPEG or WebP image (unrecognised or corrupt data)",
           "replace it with a valid image file");
    default:
      fail(name, "is a " + std::string(format_description(format)) + " file, not an image",
           "fix the path or the content part's type");
  }
  int width = 0, height = 0;
  fit_to_max_side(image.width, image.height, options.max_side, &width, &height);
  if (width != image.width || height != image.height) {
    image = resize_image_area(image, width, height);
  }
  return image;
}

Image decode_image(const std::string& path, const ImageOptions& options,
                   const MediaLimits& limits) {
  const std::vector<uint8_t> bytes = detail::read_file_bytes(path, limits);
  return decode_image_bytes(bytes, path, options, limits);
}

}  // namespace omnirm::media
