// Format sniffing from magic numbers.
#include <gtest/gtest.h>

#include <span>
#include <string>

#include "omnirm/media/format_sniff.h"

namespace omnirm::media {
namespace {

TEST(MediaFormatSniff, MagicNumbers) {
  auto sniff = [](const std::string& head) {
    return sniff_format(std::span(reinterpret_cast<const uint8_t*>(head.data()), head.size()));
  };
  EXPECT_EQ(sniff("\x89PNG\r\n\x1a\n...."), MediaFormat::png);
  EXPECT_EQ(sniff("\xFF\xD8\xFF\xE0"), MediaFormat::jpeg);
  EXPECT_EQ(sniff(std::string("RIFF\0\0\0\0WEBPVP8 ", 16)), MediaFormat::webp);
  EXPECT_EQ(sniff(std::string("RIFF\0\0\0\0WAVEfmt ", 16)), MediaFormat::wav);
  EXPECT_EQ(sniff("fLaC"), MediaFormat::flac);
  EXPECT_EQ(sniff("ID3\x04"), MediaFormat::mp3);
  EXPECT_EQ(sniff("\xFF\xFB\x90\x64"), MediaFormat::mp3);      // MPEG-1 layer III, 128 kb/s
  EXPECT_EQ(sniff("\xFF\xF1\x50\x80"), MediaFormat::unknown);  // ADTS AAC: layer 0
  EXPECT_EQ(sniff(std::string("\0\0\0\x20"
                              "ftypisom",
                              12)),
            MediaFormat::mp4);
  EXPECT_EQ(sniff("\x1A\x45\xDF\xA3"), MediaFormat::matroska);
  EXPECT_EQ(sniff("ply\nformat ascii 1.0"), MediaFormat::ply);
  EXPECT_EQ(sniff("glTF"), MediaFormat::glb);
  EXPECT_EQ(sniff("v 0 0 0\n"), MediaFormat::unknown);
  EXPECT_EQ(sniff(""), MediaFormat::unknown);
  EXPECT_EQ(format_kind(MediaFormat::wav), MediaKind::audio);
  EXPECT_EQ(format_kind(MediaFormat::webp), MediaKind::image);
}

}  // namespace
}  // namespace omnirm::media
