// A 64-bit content hash in the style of xxHash64: four independent multiply-rotate lanes over
// 32-byte blocks (so the loop runs at several GB/s), then the tail, the length and a final
// avalanche. Words are read as little-endian on every host, so values are portable.
#include "omnirm/core/content_hash.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "omnirm/core/error.h"

namespace omnirm {
namespace {

constexpr uint64_t kPrimeA = 0x9E3779B97F4A7C15ull;
constexpr uint64_t kPrimeB = 0xC2B2AE3D27D4EB4Full;
constexpr uint64_t kPrimeC = 0x165667B19E3779F9ull;

uint64_t load_le64(const uint8_t* p) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | p[i];
  return value;
}

uint64_t mix_lane(uint64_t lane, uint64_t word) {
  return std::rotl(lane + word * kPrimeB, 31) * kPrimeA;
}

uint64_t avalanche(uint64_t h) {
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 33;
  return h;
}

}  // namespace

ContentHasher::ContentHasher(uint64_t seed) {
  for (int i = 0; i < 4; ++i) lanes_[i] = seed + kPrimeC * static_cast<uint64_t>(i + 1);
}

void ContentHasher::consume_block(const uint8_t* block) {
  for (int i = 0; i < 4; ++i) lanes_[i] = mix_lane(lanes_[i], load_le64(block + 8 * i));
}

void ContentHasher::update(std::span<const uint8_t> bytes) {
  total_size_ += bytes.size();
  size_t pos = 0;
  if (pending_size_ > 0) {
    const size_t take = std::min(bytes.size(), sizeof(pending_) - pending_size_);
    std::memcpy(pending_ + pending_size_, bytes.data(), take);
    pending_size_ += take;
    pos = take;
    if (pending_size_ < sizeof(pending_)) return;
    consume_block(pending_);
    pending_size_ = 0;
  }
  for (; pos + 32 <= bytes.size(); pos += 32) consume_block(bytes.data() + pos);
  pending_size_ = bytes.size() - pos;
  if (pending_size_ > 0) std::memcpy(pending_, bytes.data() + pos, pending_size_);
}

uint64_t ContentHasher::finish() const {
  uint64_t h = total_size_ * kPrimeA;
  for (int i = 0; i < 4; ++i) h = std::rotl(h ^ avalanche(lanes_[i]), 27) * kPrimeB + kPrimeC;
  size_t pos = 0;
  for (; pos + 8 <= pending_size_; pos += 8) h = mix_lane(h, load_le64(pending_ + pos));
  for (; pos < pending_size_; ++pos) h = std::rotl(h ^ (pending_[pos] * kPrimeC), 11) * kPrimeA;
  return avalanche(h);
}

uint64_t content_hash(std::span<const uint8_t> bytes, uint64_t seed) {
  ContentHasher hasher(seed);
  hasher.update(bytes);
  return hasher.finish();
}

FileDigest digest_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path + ": cannot open the file; check the path and permissions");
  ContentHasher hasher;
  std::vector<uint8_t> chunk(size_t{1} << 20);
  FileDigest digest;
  while (in) {
    in.read(reinterpret_cast<char*>(chunk.data()), static_cast<std::streamsize>(chunk.size()));
    const auto got = static_cast<size_t>(in.gcount());
    if (got == 0) break;
    hasher.update(std::span<const uint8_t>(chunk.data(), got));
    digest.size += got;
  }
  if (in.bad()) throw UserError(path + ": read error while hashing; check the disk and retry");
  digest.hash = hasher.finish();
  return digest;
}

FileDigest digest_directory(const std::string& path, int64_t max_files) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(path, error)) {
    if (entry.is_regular_file()) names.push_back(entry.path().filename().string());
    if (static_cast<int64_t>(names.size()) > max_files) break;
  }
  std::sort(names.begin(), names.end());
  ContentHasher hasher;
  FileDigest whole;
  for (const std::string& name : names) {
    const FileDigest part = digest_file((std::filesystem::path(path) / name).string());
    const uint64_t words[2] = {part.hash, part.size};
    hasher.update(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(name.data()), name.size() + 1));
    hasher.update(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(words), sizeof(words)));
    whole.size += part.size;
  }
  whole.hash = hasher.finish();
  return whole;
}

}  // namespace omnirm
