// Implementation of media/decoders.h: versions as the linked libraries report them.
#include "omnirm/media/decoders.h"

#include <assimp/version.h>
#include <webp/decode.h>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

namespace omnirm::media {

namespace {

// "59.27.100" from FFmpeg's AV_VERSION_INT encoding, or "1.2.4" from libwebp's 0xMMmmpp.
std::string dotted(unsigned major, unsigned minor, unsigned micro) {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(micro);
}

}  // namespace

std::vector<std::string> decoder_libraries() {
  const unsigned format = avformat_version();
  const unsigned codec = avcodec_version();
  const int webp = WebPGetDecoderVersion();
  return {
      "stb_image (PNG, JPEG, BMP, GIF)",
      "libwebp " +
          dotted(unsigned(webp) >> 16, (unsigned(webp) >> 8) & 0xff, unsigned(webp) & 0xff),
      "FFmpeg (libavformat " + dotted(format >> 16, (format >> 8) & 0xff, format & 0xff) +
          ", libavcodec " + dotted(codec >> 16, (codec >> 8) & 0xff, codec & 0xff) + ")",
      "Assimp " + dotted(aiGetVersionMajor(), aiGetVersionMinor(), aiGetVersionRevision()),
  };
}

}  // namespace omnirm::media
