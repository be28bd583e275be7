// The content hash (incremental = one-shot, sensitivity to every byte, seeds) and format
// sniffing from magic numbers.
#include <gtest/gtest.h>

#include <bit>
#include <filesystem>
#include <random>

#include "omnirm/media/content_hash.h"
#include "omnirm/media/format_sniff.h"
#include "support/test_support.h"

namespace omnirm::media {
namespace {

std::vector<uint8_t> random_bytes(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> bytes(count);
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
  return bytes;
}

TEST(MediaContentHash, IncrementalEqualsOneShotForEverySplit) {
  const std::vector<uint8_t> bytes = random_bytes(203, 1);
  const uint64_t whole = content_hash(bytes);
  for (size_t split = 0; split <= bytes.size(); split += 7) {
    ContentHasher hasher;
    hasher.update(std::span(bytes).first(split));
    hasher.update(std::span(bytes).subspan(split));
    ASSERT_EQ(hasher.finish(), whole) << "split at " << split;
  }
  ContentHasher byte_by_byte;
  for (const uint8_t b : bytes) byte_by_byte.update(std::span(&b, 1));
  EXPECT_EQ(byte_by_byte.finish(), whole);
}

TEST(MediaContentHash, EveryBitFlipChangesAboutHalfTheBits) {
  const std::vector<uint8_t> bytes = random_bytes(100, 2);
  const uint64_t base = content_hash(bytes);
  double changed_bits = 0;
  int flips = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit, ++flips) {
      std::vector<uint8_t> copy = bytes;
      copy[i] ^= static_cast<uint8_t>(1 << bit);
      const uint64_t flipped = content_hash(copy);
      ASSERT_NE(flipped, base) << "byte " << i << " bit " << bit;
      changed_bits += std::popcount(flipped ^ base);
    }
  }
  EXPECT_NEAR(changed_bits / flips, 32.0, 1.5);
}

TEST(MediaContentHash, LengthAndSeedMatter) {
  const std::vector<uint8_t> zeros(64, 0);
  EXPECT_NE(content_hash(std::span(zeros).first(32)), content_hash(zeros));
  EXPECT_NE(content_hash(std::span(zeros).first(0)), content_hash(std::span(zeros).first(1)));
  EXPECT_NE(content_hash(zeros, 1), content_hash(zeros, 2));
}

TEST(MediaContentHash, FileDigestMatchesBytes) {
  const std::string dir = omnirm::testing::make_temp_dir("media-hash");
  const std::vector<uint8_t> bytes = random_bytes(3 << 20, 3);  // spans several read chunks
  omnirm::testing::write_file(dir + "/blob", std::string(bytes.begin(), bytes.end()));
  const FileDigest digest = digest_file(dir + "/blob");
  EXPECT_EQ(digest.size, bytes.size());
  EXPECT_EQ(digest.hash, content_hash(bytes));
  std::filesystem::remove_all(dir);
}

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
