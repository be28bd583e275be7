// The content hash: incremental = one-shot, sensitivity to every byte, seeds, file digests.
#include <gtest/gtest.h>

#include <bit>
#include <filesystem>
#include <random>

#include "omnirm/core/content_hash.h"
#include "support/test_support.h"

namespace omnirm {
namespace {

std::vector<uint8_t> random_bytes(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> bytes(count);
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
  return bytes;
}

TEST(ContentHash, IncrementalEqualsOneShotForEverySplit) {
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

TEST(ContentHash, EveryBitFlipChangesAboutHalfTheBits) {
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

TEST(ContentHash, LengthAndSeedMatter) {
  const std::vector<uint8_t> zeros(64, 0);
  EXPECT_NE(content_hash(std::span(zeros).first(32)), content_hash(zeros));
  EXPECT_NE(content_hash(std::span(zeros).first(0)), content_hash(std::span(zeros).first(1)));
  EXPECT_NE(content_hash(zeros, 1), content_hash(zeros, 2));
}

TEST(ContentHash, FileDigestMatchesBytes) {
  const std::string dir = omnirm::testing::make_temp_dir("media-hash");
  const std::vector<uint8_t> bytes = random_bytes(3 << 20, 3);  // spans several read chunks
  omnirm::testing::write_file(dir + "/blob", std::string(bytes.begin(), bytes.end()));
  const FileDigest digest = digest_file(dir + "/blob");
  EXPECT_EQ(digest.size, bytes.size());
  EXPECT_EQ(digest.hash, content_hash(bytes));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace omnirm
